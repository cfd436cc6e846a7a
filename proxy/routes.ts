import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

import { SidecarError } from '../core/errors';
import type { AgentErrorCode } from '../core/results';
import type { Identity } from '../queue/contract';
import type { ErrorBody, HandledResponse } from './answer';
import type { ApiKeyPrivilege } from './auth/api-key-verifier';
import type { RequestAuthenticator } from './auth/authenticate';
import { rootMethods } from './root';

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
 * Handlers return what to send; failures are thrown as SidecarErrors and rendered in one place (proxy/answer.ts).
 * The caller is already authenticated as the route declares (`identity`). `res` is only for a handler that streams
 * its answer itself (the upstream pass-through); the server does not write a response whose headers were sent.
 */
export type RouteHandler<I = Identity> = (
  request: ProxyRequest,
  identity: I,
  res: ServerResponse,
) => Promise<HandledResponse>;

/** A handler with the words its protocol gives failures when they are not APM Server's `{"error": ...}`. */
export interface DeclaredRoute {
  readonly handler: RouteHandler;
  readonly errorBody?: ErrorBody;
}

/** A step before authentication (RUM's CORS): an answer ends the request there (a preflight); it may throw. */
export type BeforeAuth = (request: ProxyRequest) => HandledResponse | undefined;

/**
 * What a route needs from the caller, as APM Server's per-route middleware chain: an API-key privilege (or a
 * secret token), `optional` (the identity or null, never a 401: the root endpoint) or `none`. `anonymous`: a
 * request without Authorization header (or any, when no credential is configured) is served as anonymous.
 */
type Access =
  | { readonly auth: 'optional'; readonly handler: RouteHandler<Identity | null> }
  | { readonly auth: ApiKeyPrivilege | 'none'; readonly anonymous?: boolean; readonly handler: RouteHandler };

type Route = Access & {
  readonly path: string;
  readonly before?: BeforeAuth;
  /** How the route's failures are worded when its protocol is not APM Server's `{"error": ...}` (OTLP). */
  readonly errorBody?: ErrorBody;
  /** An intake endpoint (events in): counted in intake_requests_total. */
  readonly intake?: boolean;
};

/** A route as the server runs it: authenticated once, from its declared access, before its handler. */
export interface DispatchedRoute {
  readonly serve: (request: ProxyRequest, res: ServerResponse) => Promise<HandledResponse>;
  readonly errorBody: ErrorBody | undefined;
  readonly intake: boolean;
}

/** A route that only fails, as APM Server answers an endpoint whose feature is off, or an unknown path. */
function rejectWith(code: AgentErrorCode): RouteHandler {
  return () => Promise.reject(new SidecarError(code));
}

export interface RouteTableParts {
  readonly authenticator: RequestAuthenticator;
  readonly intake: RouteHandler;
  /** /intake/v2/rum/events and /intake/v3/rum/events; 403 "RUM endpoint is disabled" while RUM is off. */
  readonly rum?: {
    readonly v2: RouteHandler;
    readonly v3: RouteHandler;
    readonly cors: BeforeAuth;
    /** server.auth.anonymous.enabled. */
    readonly anonymous: boolean;
  };
  readonly root: RouteHandler<Identity | null>;
  /** /config/v1/agents; 403 "disabled" until central configuration is configured. */
  readonly agentConfig?: DeclaredRoute;
  /** Anything else: the upstream when configured (needs event:write), else 404. */
  readonly fallback?: DeclaredRoute;
  /** OTLP/HTTP: /v1/traces, /v1/metrics, /v1/logs. */
  readonly otlp?: {
    readonly traces: RouteHandler;
    readonly metrics: RouteHandler;
    readonly logs: RouteHandler;
    readonly errorBody: ErrorBody;
  };
}

/**
 * The route table: each path with the access it needs. Paths match exactly (no trailing-slash variants), as APM
 * Server's mux does; a new endpoint is one more entry here.
 */
export class RouteTable {
  private readonly routes: ReadonlyMap<string, DispatchedRoute>;
  private readonly fallback: DispatchedRoute;

  constructor(parts: RouteTableParts) {
    const rumOff = rejectWith('SIDECAR_ERR_RUM_DISABLED');
    const rum = (path: string, handler: RouteHandler | undefined): Route =>
      parts.rum === undefined || handler === undefined
        ? { path, auth: 'none', handler: rumOff, intake: true }
        : { path, auth: 'event:write', anonymous: parts.rum.anonymous, before: parts.rum.cors, handler, intake: true };
    const entries: Route[] = [
      { path: '/', auth: 'optional', before: rootMethods, handler: parts.root },
      { path: '/intake/v2/events', auth: 'event:write', handler: parts.intake, intake: true },
      parts.agentConfig === undefined
        ? { path: '/config/v1/agents', auth: 'none', handler: rejectWith('SIDECAR_ERR_AGENT_CONFIG_DISABLED') }
        : { path: '/config/v1/agents', auth: 'config_agent:read', ...parts.agentConfig },
      { path: '/config/v1/rum/agents', auth: 'none', handler: rumOff },
      rum('/intake/v2/rum/events', parts.rum?.v2),
      rum('/intake/v3/rum/events', parts.rum?.v3),
    ];
    if (parts.otlp !== undefined) {
      const { errorBody } = parts.otlp;
      entries.push(
        { path: '/v1/traces', auth: 'event:write', handler: parts.otlp.traces, errorBody, intake: true },
        { path: '/v1/metrics', auth: 'event:write', handler: parts.otlp.metrics, errorBody, intake: true },
        { path: '/v1/logs', auth: 'event:write', handler: parts.otlp.logs, errorBody, intake: true },
      );
    }
    const dispatch = (route: Route): DispatchedRoute => dispatched(route, parts.authenticator);
    this.routes = new Map(entries.map((r) => [r.path, dispatch(r)]));
    this.fallback = dispatch(
      parts.fallback === undefined
        ? { path: '*', auth: 'none', handler: rejectWith('SIDECAR_ERR_NOT_FOUND') }
        : { path: '*', auth: 'event:write', ...parts.fallback },
    );
  }

  routeFor(path: string): DispatchedRoute {
    return this.routes.get(path) ?? this.fallback;
  }
}

function dispatched(route: Route, authenticator: RequestAuthenticator): DispatchedRoute {
  const serve = async (request: ProxyRequest, res: ServerResponse): Promise<HandledResponse> => {
    const early = route.before?.(request);
    if (early !== undefined) return early;
    const header = request.headers.authorization;
    if (route.auth === 'optional') return route.handler(request, await authenticator.identifyOptionally(header), res);
    // With no credential configured at all, a made-up Authorization header must not escape anonymous limits.
    const anonymous = route.anonymous === true && (header === undefined || !authenticator.required);
    const identity: Identity =
      route.auth === 'none' || anonymous
        ? { kind: 'anonymous' }
        : await authenticator.authenticate(header, route.auth, request.clientIp);
    return route.handler(request, identity, res);
  };
  return { serve, errorBody: route.errorBody, intake: route.intake === true };
}
