import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

import { SidecarError } from '../core/errors';
import type { ErrorBody, HandledResponse } from './answer';

/** What a handler sees of a request: parsed once by server.ts. */
export interface ProxyRequest {
  /** Random UUID; also the BullMQ job id of an intake request. */
  readonly id: string;
  /** ms since the epoch when the request's headers arrived. */
  readonly receivedAt: number;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly clientIp: string;
  /** The socket peer's port (null when the socket has already closed). */
  readonly clientPort: number | null;
  /** Headers a handler adds to whatever answer the request gets, errors included (RUM's CORS and response_headers). */
  readonly responseHeaders: Record<string, string>;
  /** The request body; destroyed with a SidecarError when the request times out or the server drains. */
  readonly body: Readable;
}

/**
 * Handlers return what to send; failures are thrown as SidecarErrors and rendered in one place (server.ts).
 * `res` is only for a handler that streams its answer itself (the upstream pass-through); the server does not
 * write a response whose headers were already sent.
 */
export type RouteHandler = (request: ProxyRequest, res: ServerResponse) => Promise<HandledResponse>;

export interface Route {
  readonly path: string;
  readonly handler: RouteHandler;
  /** How the route's failures are worded when its protocol is not APM Server's `{"error": ...}` (OTLP). */
  readonly errorBody?: ErrorBody;
  /** An intake endpoint (events in): counted in intake_requests_total. */
  readonly intake?: boolean;
}

/** The agents' endpoints beyond intake and root, as APM Server answers them while the feature is off. */
function rejectWith(code: 'SIDECAR_ERR_RUM_DISABLED' | 'SIDECAR_ERR_AGENT_CONFIG_DISABLED'): RouteHandler {
  return () => Promise.reject(new SidecarError(code));
}

const notFound: RouteHandler = () => Promise.reject(new SidecarError('SIDECAR_ERR_NOT_FOUND'));

export interface RouteTableParts {
  readonly intake: RouteHandler;
  /** /intake/v2/rum/events and /intake/v3/rum/events; 403 "RUM endpoint is disabled" while RUM is off. */
  readonly rum?: { readonly v2: RouteHandler; readonly v3: RouteHandler };
  readonly root: RouteHandler;
  /** /config/v1/agents; 403 "disabled" until central configuration is configured. */
  readonly agentConfig?: RouteHandler;
  /** Anything else: the upstream when configured, else 404. */
  readonly fallback?: RouteHandler;
  /** OTLP/HTTP: /v1/traces, /v1/metrics, /v1/logs. */
  readonly otlp?: {
    readonly traces: RouteHandler;
    readonly metrics: RouteHandler;
    readonly logs: RouteHandler;
    readonly errorBody: ErrorBody;
  };
}

/**
 * The route table. Paths match exactly (no trailing-slash variants), as APM Server's mux does; a new endpoint is
 * one more entry here.
 */
export class RouteTable {
  private readonly routes: ReadonlyMap<string, Route>;
  private readonly fallback: RouteHandler;

  constructor(parts: RouteTableParts) {
    const rum = rejectWith('SIDECAR_ERR_RUM_DISABLED');
    const entries: Route[] = [
      { path: '/', handler: parts.root },
      { path: '/intake/v2/events', handler: parts.intake, intake: true },
      { path: '/config/v1/agents', handler: parts.agentConfig ?? rejectWith('SIDECAR_ERR_AGENT_CONFIG_DISABLED') },
      { path: '/config/v1/rum/agents', handler: rum },
      { path: '/intake/v2/rum/events', handler: parts.rum?.v2 ?? rum, intake: true },
      { path: '/intake/v3/rum/events', handler: parts.rum?.v3 ?? rum, intake: true },
    ];
    if (parts.otlp !== undefined) {
      const { errorBody } = parts.otlp;
      entries.push(
        { path: '/v1/traces', handler: parts.otlp.traces, errorBody, intake: true },
        { path: '/v1/metrics', handler: parts.otlp.metrics, errorBody, intake: true },
        { path: '/v1/logs', handler: parts.otlp.logs, errorBody, intake: true },
      );
    }
    this.routes = new Map(entries.map((r) => [r.path, r]));
    this.fallback = parts.fallback ?? notFound;
  }

  handlerFor(path: string): RouteHandler {
    return this.routes.get(path)?.handler ?? this.fallback;
  }

  /** Whether the path is an intake endpoint (events in), as opposed to root, agent config, passthrough or 404. */
  isIntake(path: string): boolean {
    return this.routes.get(path)?.intake === true;
  }

  /** The route's own failure body, if its protocol has one. */
  errorBodyFor(path: string): ErrorBody | undefined {
    return this.routes.get(path)?.errorBody;
  }
}
