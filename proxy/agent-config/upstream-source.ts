import http from 'node:http';
import https from 'node:https';

import type { Logger } from 'pino';

import { describeForOperator, SidecarError } from '../../core/errors';
import { closeOnce } from '../../core/lifecycle';
import type { UpstreamSettings } from '../passthrough/upstream';
import { type AgentConfigQuery, type AgentConfigResult, etagOfSettings, parseSettings } from './model';
import { RefreshingCache } from './refreshing-cache';
import type { AgentConfigSource } from './source';

/** Distinct service/environment pairs remembered; the oldest is forgotten beyond this. */
const maxCachedQueries = 1000;
const maxBodyBytes = 1024 * 1024;

interface UpstreamAnswer {
  readonly status: number;
  readonly etag: string | undefined;
  readonly body: string;
}

function unavailable(message: string, cause?: unknown): SidecarError {
  return new SidecarError('SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE', message, {
    cause,
    remediation:
      'check upstream.url, upstream.ssl.certificate_authorities and the upstream credential (upstream.secret_token / upstream.api_key)',
  });
}

/** Interprets the upstream's answer as APM Server gives it: settings as the body, the etag quoted in ETag. */
export function parseUpstreamAnswer(answer: UpstreamAnswer): AgentConfigResult {
  if (answer.status === 403) {
    throw new SidecarError('SIDECAR_ERR_AGENT_CONFIG_DISABLED', undefined, {
      remediation: 'the upstream has central configuration off',
    });
  }
  if (answer.status !== 200) throw unavailable(`the upstream answered ${answer.status} to /config/v1/agents`);
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch (err) {
    throw unavailable("the upstream's /config/v1/agents answer is not JSON", err);
  }
  const settings = parseSettings(body, 'upstream /config/v1/agents');
  const etag = answer.etag?.replaceAll('"', '');
  return { settings, etag: etag === undefined || etag === '' ? etagOfSettings(settings) : etag };
}

/**
 * agent_config.source: upstream. Asks the upstream (an APM Server with central config on) once per cache
 * period per service/environment pair, with the upstream's own credential, and answers agents from that
 * (ETag, 304) exactly as for the other sources.
 */
export class UpstreamAgentConfigSource implements AgentConfigSource {
  readonly kind = 'upstream';
  private readonly caches = new Map<string, RefreshingCache<AgentConfigResult>>();

  constructor(
    private readonly upstream: UpstreamSettings,
    private readonly periodMs: number,
    private readonly logger: Logger,
  ) {}

  start(): Promise<void> {
    this.logger.info({ upstream: this.upstream.url.origin }, 'agent configuration is read from the upstream');
    return Promise.resolve();
  }

  async lookup(query: AgentConfigQuery): Promise<AgentConfigResult> {
    const key = `${query.serviceName}\u0000${query.serviceEnvironment}`;
    let cache = this.caches.get(key);
    if (cache === undefined) {
      cache = new RefreshingCache({
        periodMs: this.periodMs,
        fetch: async () => parseUpstreamAnswer(await this.request(query)),
        onStaleServed: (err) =>
          this.logger.warn(
            { err },
            `upstream agent configuration refresh failed; serving the last good answer. ${describeForOperator(err)}`,
          ),
      });
      if (this.caches.size >= maxCachedQueries) this.caches.delete(this.caches.keys().next().value ?? key);
      this.caches.set(key, cache);
    }
    return cache.get();
  }

  readonly close = closeOnce(() => {
    this.caches.clear();
    return Promise.resolve();
  });

  private request(query: AgentConfigQuery): Promise<UpstreamAnswer> {
    const url = new URL(`${this.upstream.url.pathname.replace(/\/$/, '')}/config/v1/agents`, this.upstream.url);
    url.searchParams.set('service.name', query.serviceName);
    if (query.serviceEnvironment !== '') url.searchParams.set('service.environment', query.serviceEnvironment);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (this.upstream.authorization !== null) headers.authorization = this.upstream.authorization;
    const send = url.protocol === 'https:' ? https.request : http.request;
    return new Promise<UpstreamAnswer>((resolve, reject) => {
      const req = send(url, { agent: this.upstream.agent, headers, timeout: this.upstream.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBodyBytes) req.destroy(unavailable("the upstream's /config/v1/agents answer is too large"));
          else chunks.push(chunk);
        });
        res.on('error', (err) => reject(unavailable(`reading the upstream's answer failed: ${err.message}`, err)));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            etag: res.headers.etag,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('timeout', () =>
        req.destroy(unavailable('the upstream did not answer /config/v1/agents within upstream.timeout')),
      );
      req.on('error', (err) =>
        reject(err instanceof SidecarError ? err : unavailable(`cannot reach the upstream: ${err.message}`, err)),
      );
      req.end();
    });
  }
}
