import { createHash } from 'node:crypto';

import { type Client, errors } from '@elastic/elasticsearch';
import type { Logger } from 'pino';

import { runtimeConfig } from '../../config/runtime';
import type { SidecarConfig } from '../../config/schema';
import { SidecarError } from '../../core/errors';
import { closeOnce } from '../../core/lifecycle';
import { isRecord } from '../../core/parse';
import { createEsClient } from '../../elasticsearch/client';
import { classifyEsError } from '../../elasticsearch/errors';
import { assertApiKeysVerifiable } from './api-keys-verifiable';

/**
 * Agent API keys (server.auth.api_key.enabled), verified as APM Server does: _has_privileges with the agent's
 * own key on application "apm", resource "-". The request is authenticated as the agent's key, on a client
 * that has no credential of its own, so a bug here can never lend the agent the proxy's privileges.
 */
export type ApiKeyPrivilege = 'event:write' | 'config_agent:read';

export type ApiKeyVerdict =
  | { readonly kind: 'ok'; readonly keyId: string }
  | { readonly kind: 'unauthorized'; readonly reason: string }
  | { readonly kind: 'forbidden'; readonly reason: string };

export interface ApiKeyVerifier {
  /**
   * `credentials` is what follows "ApiKey " in the Authorization header (base64 of id:key).
   * `client` is the caller's address: the lookup budget is kept per client (see CachingApiKeyVerifier).
   * Throws SidecarError SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE (cluster unreachable) or SIDECAR_ERR_RATE_LIMITED.
   */
  verify(credentials: string, privilege: ApiKeyPrivilege, client?: string): Promise<ApiKeyVerdict>;
  close(): Promise<void>;
}

const checkedPrivileges: readonly ApiKeyPrivilege[] = ['event:write', 'config_agent:read'];
const rateWindowMs = 60_000;

/** What the cluster said about one key; successes and failures are both cached (APM Server does the same). */
type KeyStatus =
  | { readonly kind: 'known'; readonly keyId: string; readonly granted: ReadonlySet<ApiKeyPrivilege> }
  | { readonly kind: 'unauthorized'; readonly reason: string };

/** The one call to the cluster, authenticated as the agent's key. */
export type PrivilegeLookup = (credentials: string) => Promise<KeyStatus>;

export interface VerifierOptions {
  readonly cacheTtlMs: number;
  /** Per client address: most distinct keys per minute that failed (or are being) verified. */
  readonly limit: number;
  /** Across all clients: most failed (or pending) lookups per minute before suspect clients are refused. */
  readonly globalLimit?: number;
  readonly now?: () => number;
}

/** One lookup counted in the current window. */
interface Lookup {
  readonly at: number;
  readonly client: string;
  /** Pending or failed; a key that verified stops counting against anyone. */
  counts: boolean;
}

/** "id:key" from base64, or undefined when the header cannot be an API key. */
export function decodeApiKey(credentials: string): { id: string } | undefined {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(credentials)) return undefined;
  const decoded = Buffer.from(credentials, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { id: decoded.slice(0, colon) };
}

function digest(credentials: string): string {
  return createHash('sha256').update(credentials).digest('hex');
}

/** Reads application.apm["-"] of a _has_privileges answer; unknown shapes count as "not granted". */
export function parseApplicationPrivileges(body: unknown): Set<ApiKeyPrivilege> {
  const application = isRecord(body) ? body.application : undefined;
  const apm = isRecord(application) ? application.apm : undefined;
  const resource = isRecord(apm) ? apm['-'] : undefined;
  return new Set(checkedPrivileges.filter((privilege) => isRecord(resource) && resource[privilege] === true));
}

function elasticsearchLookup(client: Client): PrivilegeLookup {
  return async (credentials) => {
    const keyId = decodeApiKey(credentials)?.id ?? '?';
    try {
      const body: unknown = await client.security.hasPrivileges(
        { application: [{ application: 'apm', privileges: [...checkedPrivileges], resources: ['-'] }] },
        { headers: { authorization: `ApiKey ${credentials}` } },
      );
      return { kind: 'known', keyId, granted: parseApplicationPrivileges(body) };
    } catch (err) {
      if (err instanceof errors.ResponseError && err.meta.statusCode === 401) {
        return { kind: 'unauthorized', reason: 'API key is unknown, expired or invalidated' };
      }
      const classified = classifyEsError(err, { credential: 'agent api key', action: 'verifying an agent API key' });
      throw new SidecarError('SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE', undefined, {
        cause: classified,
        remediation: classified.remediation,
      });
    }
  };
}

interface CacheEntry {
  readonly expiresAt: number;
  readonly status: KeyStatus;
}

/** Cache per key (by digest: the key itself is never kept), distinct-key rate limit, one lookup in flight per key. */
export class CachingApiKeyVerifier implements ApiKeyVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<KeyStatus>>();
  /** Each distinct key sent to the cluster within the current window (by digest). */
  private readonly lookups = new Map<string, Lookup>();
  private readonly now: () => number;

  constructor(
    private readonly lookup: PrivilegeLookup,
    private readonly options: VerifierOptions,
    private readonly onClose: () => Promise<void> = async () => Promise.resolve(),
  ) {
    this.now = options.now ?? Date.now;
  }

  async verify(credentials: string, privilege: ApiKeyPrivilege, client = ''): Promise<ApiKeyVerdict> {
    const decoded = decodeApiKey(credentials);
    if (decoded === undefined) return { kind: 'unauthorized', reason: 'malformed API key' };
    const status = await this.statusOf(digest(credentials), credentials, client);
    if (status.kind === 'unauthorized') return { kind: 'unauthorized', reason: status.reason };
    if (!status.granted.has(privilege)) {
      return { kind: 'forbidden', reason: `API Key not granted the apm application privilege ${privilege}` };
    }
    return { kind: 'ok', keyId: decoded.id };
  }

  private async statusOf(key: string, credentials: string, client: string): Promise<KeyStatus> {
    const now = this.now();
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresAt > now) return cached.status;
    const pending = this.inFlight.get(key);
    if (pending !== undefined) return pending;
    const counted = this.admit(key, client, now);
    const promise = this.lookup(credentials)
      .then((status) => {
        // A key that verified gives its slot back: valid keys never spend anyone's budget.
        if (status.kind === 'known') counted.counts = false;
        this.cache.set(key, { expiresAt: this.now() + this.options.cacheTtlMs, status });
        return status;
      })
      .finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, promise);
    return promise;
  }

  /**
   * The lookup budget, so one client sending invalid keys exhausts only its own: per client address, at most
   * `limit` distinct keys that failed (or are pending) in a minute; across all clients `globalLimit` of them
   * (Elasticsearch's sake), beyond which only clients with such a failure in the window are refused, so a client
   * that has sent only valid keys is still looked up. Throws SIDECAR_ERR_RATE_LIMITED; sweeps what has expired.
   */
  private admit(key: string, client: string, now: number): Lookup {
    for (const [k, lookup] of this.lookups) if (now - lookup.at >= rateWindowMs) this.lookups.delete(k);
    for (const [k, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(k);
    const existing = this.lookups.get(key);
    if (existing !== undefined) return existing;
    let mine = 0;
    let all = 0;
    for (const lookup of this.lookups.values()) {
      if (!lookup.counts) continue;
      all++;
      if (lookup.client === client) mine++;
    }
    const globalLimit = this.options.globalLimit ?? Number.POSITIVE_INFINITY;
    if (mine >= this.options.limit || (mine > 0 && all >= globalLimit)) {
      throw new SidecarError('SIDECAR_ERR_RATE_LIMITED', undefined, {
        remediation: `this client sent more unverifiable API keys than server.auth.api_key.limit (per client) or server.auth.api_key.global_limit (all clients) allow in a minute; check the agents' apiKey settings`,
      });
    }
    const lookup: Lookup = { at: now, client, counts: true };
    this.lookups.set(key, lookup);
    return lookup;
  }

  close(): Promise<void> {
    this.cache.clear();
    return this.onClose();
  }
}

export function createApiKeyVerifier(config: SidecarConfig, logger: Logger): ApiKeyVerifier {
  assertApiKeysVerifiable(config);
  // No credential of its own: every request carries the agent's key in its Authorization header.
  const client = createEsClient(runtimeConfig(config).elasticsearch, {}, { credential: null, logger });
  return new CachingApiKeyVerifier(
    elasticsearchLookup(client),
    {
      cacheTtlMs: runtimeConfig(config).ms['server.auth.api_key.cache_ttl'],
      limit: config.server.auth.api_key.limit,
      globalLimit: config.server.auth.api_key.global_limit,
    },
    closeOnce(() => client.close()),
  );
}
