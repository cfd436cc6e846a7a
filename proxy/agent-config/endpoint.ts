import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';

import { describeForOperator, SidecarError } from '../../core/errors';
import { closeOnce, type Component } from '../../core/lifecycle';
import { metricPrefix } from '../../core/metrics';
import type { Identity } from '../../queue/contract';
import { failureOf } from '../answer';
import type { AgentConfigResult } from './model';
import { type AgentConfigRequest, parseAgentConfigRequest } from './request';
import type { AgentConfigSource } from './source';

/** APM Server's errMaxAgeDuration: after a failure agents come back in five minutes, not every few seconds. */
const errorCacheControl = 'max-age=300, must-revalidate';

export interface AgentConfigEndpointOptions {
  /** null: agent_config.source is none, every request gets 403 "disabled". */
  readonly source: AgentConfigSource | null;
  readonly cacheExpirationMs: number;
  readonly logger: Logger;
  readonly registry?: Registry;
}

/** A complete answer; `result` labels it in the metrics (ok, not_modified, or a catalogue result id). */
export interface AgentConfigResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly result: string;
}

/**
 * GET|POST /config/v1/agents, answered as APM Server answers it (internal/beater/api/config/agent): settings
 * as a JSON object with a quoted ETag, 304 when the agent already has that etag, Cache-Control max-age set to
 * the cache period so agents poll at that pace. Called after TLS, network and credential checks (a secret
 * token, or an API key with config_agent:read).
 */
export class AgentConfigEndpoint implements Component {
  private readonly cacheControl: string;
  private readonly requests: Counter<'result'>;

  constructor(private readonly options: AgentConfigEndpointOptions) {
    this.cacheControl = `max-age=${Math.round(options.cacheExpirationMs / 1000)}, must-revalidate`;
    this.requests = new Counter({
      name: `${metricPrefix}agent_config_requests_total`,
      help: '/config/v1/agents requests by result (ok, not_modified, or the error result id)',
      labelNames: ['result'],
      registers: options.registry === undefined ? [] : [options.registry],
    });
  }

  get enabled(): boolean {
    return this.options.source !== null;
  }

  async start(): Promise<void> {
    await this.options.source?.start();
  }

  readonly close = closeOnce(async () => {
    await this.options.source?.close();
  });

  /** Writes the answer to a raw response. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const response = await this.respond(
      { method: req.method ?? 'GET', query: url.searchParams, headers: req.headers, body: req },
      identity,
    );
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string> = { ...response.headers };
    // APM Server closes the connection after every error.
    if (response.status >= 400) headers.connection = 'close';
    if (response.status !== 304) headers['content-length'] = String(Buffer.byteLength(response.body));
    res.writeHead(response.status, headers).end(response.status === 304 ? undefined : response.body);
  }

  /** The answer as data, for a route table that writes responses itself. Never rejects: failures are answers too. */
  async respond(req: AgentConfigRequest, identity: Identity): Promise<AgentConfigResponse> {
    try {
      const source = this.options.source;
      if (source === null) throw new SidecarError('SIDECAR_ERR_AGENT_CONFIG_DISABLED');
      const parsed = await parseAgentConfigRequest(req, identity.kind !== 'anonymous');
      return this.counted(this.render(await source.lookup(parsed.query), parsed.ifNoneMatch));
    } catch (err) {
      return this.counted(this.renderError(err, identity));
    }
  }

  private counted(response: AgentConfigResponse): AgentConfigResponse {
    this.requests.inc({ result: response.result });
    return response;
  }

  private render(result: AgentConfigResult, ifNoneMatch: string): AgentConfigResponse {
    const headers = {
      'cache-control': this.cacheControl,
      etag: `"${result.etag}"`,
      'access-control-expose-headers': 'Etag',
    };
    if (result.etag === ifNoneMatch) return { status: 304, headers, body: '', result: 'not_modified' };
    return {
      status: 200,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(result.settings),
      result: 'ok',
    };
  }

  private renderError(err: unknown, identity: Identity): AgentConfigResponse {
    const failure = failureOf(err);
    const line =
      failure.status >= 500 ? `/config/v1/agents failed: ${describeForOperator(err)}` : '/config/v1/agents refused';
    this.options.logger[failure.logLevel]({ err, status: failure.status, identity: identity.kind }, line);
    return {
      status: failure.status,
      headers: { 'cache-control': errorCacheControl, 'content-type': 'application/json' },
      body: JSON.stringify({ error: failure.message }),
      result: failure.result,
    };
  }
}
