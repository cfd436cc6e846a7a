import { Counter, type Registry } from 'prom-client';

import { SidecarError } from '../../core/errors';
import { closeOnce, type Component } from '../../core/lifecycle';
import { metricPrefix } from '../../core/metrics';
import type { Identity } from '../../queue/contract';
import { answerWith, compactErrorBody, type ErrorBody, failureOf, type HandledResponse } from '../answer';
import type { AgentConfigResult } from './model';
import { type AgentConfigRequest, parseAgentConfigRequest } from './request';
import type { AgentConfigSource } from './source';

/** APM Server's errMaxAgeDuration: after a failure agents come back in five minutes, not every few seconds. */
const errorCacheControl = 'max-age=300, must-revalidate';

/** Failures of /config/v1/agents: compact `{"error": ...}` with the five-minute Cache-Control. */
export const agentConfigErrorBody: ErrorBody = (failure, headers) => {
  const rendered = compactErrorBody(failure, headers);
  return { ...rendered, headers: { ...rendered.headers, 'Cache-Control': errorCacheControl } };
};

export interface AgentConfigEndpointOptions {
  /** null: agent_config.source is none, every request gets 403 "disabled". */
  readonly source: AgentConfigSource | null;
  readonly cacheExpirationMs: number;
  readonly registry?: Registry;
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

  /** The answer; a failure is counted here, then thrown for the one renderer (`agentConfigErrorBody`). */
  async respond(req: AgentConfigRequest, identity: Identity): Promise<HandledResponse> {
    try {
      const source = this.options.source;
      if (source === null) throw new SidecarError('SIDECAR_ERR_AGENT_CONFIG_DISABLED');
      const parsed = await parseAgentConfigRequest(req, identity.kind !== 'anonymous');
      const response = this.render(await source.lookup(parsed.query), parsed.ifNoneMatch);
      this.requests.inc({ result: response.result });
      return response;
    } catch (err) {
      this.requests.inc({ result: failureOf(err).result });
      throw err;
    }
  }

  private render(result: AgentConfigResult, ifNoneMatch: string): HandledResponse {
    const headers = {
      'cache-control': this.cacheControl,
      etag: `"${result.etag}"`,
      'access-control-expose-headers': 'Etag',
    };
    if (result.etag === ifNoneMatch) return answerWith('not_modified', { headers, body: '' });
    const body = JSON.stringify(result.settings);
    return answerWith('ok', { headers: { ...headers, 'content-type': 'application/json' }, body });
  }
}
