import { type CidrBlock, parseCidr } from '../core/cidr';
import { parseDuration } from '../core/duration';
import { type ListenAddress, parseHostPort } from '../core/listen';
import { valueAt } from './leaves';
import type { SidecarConfig } from './schema';

/** Every key of format "duration" (a test keeps this list equal to the schema's). */
export const durationKeys = [
  'server.auth.api_key.cache_ttl',
  'server.rum.source_mapping.cache.expiration',
  'server.ssl.handshake_timeout',
  'server.ssl.reload_interval',
  'server.read_timeout',
  'server.idle_timeout',
  'server.shutdown_timeout',
  'queue.redis.command_timeout',
  'queue.dead_letter.max_age',
  'forwarder.stuck_worker_timeout',
  'output.elasticsearch.timeout',
  'output.elasticsearch.flush_interval',
  'output.elasticsearch.backoff.init',
  'output.elasticsearch.backoff.max',
  'agent_config.cache.expiration',
  'upstream.timeout',
  'log.metrics_period',
] as const;

type DurationKey = (typeof durationKeys)[number];

/**
 * output.elasticsearch as the Elasticsearch client takes it: the section, with its timeout in milliseconds and
 * ssl.ca_trusted_fingerprint as hex without colons, lower case (Elasticsearch prints it so, openssl with colons).
 */
export type EsConnection = SidecarConfig['output']['elasticsearch'] & {
  readonly timeoutMs: number;
  readonly caFingerprint: string | null;
};

/** The validated configuration as the processes use it: parsed once, right after convict validated it. */
export interface RuntimeConfig {
  /** Every duration key in milliseconds, by its key ("server.read_timeout"). */
  readonly ms: Readonly<Record<DurationKey, number>>;
  readonly listen: { readonly intake: ListenAddress; readonly admin: ListenAddress };
  readonly elasticsearch: EsConnection;
  /** server.allowed_networks and server.trusted_proxies as address blocks. */
  readonly networks: { readonly allowed: readonly CidrBlock[]; readonly trustedProxies: readonly CidrBlock[] };
}

const views = new WeakMap<SidecarConfig, RuntimeConfig>();

/** The runtime view of a loaded configuration; the same object for the same configuration. */
export function runtimeConfig(config: SidecarConfig): RuntimeConfig {
  const known = views.get(config);
  if (known !== undefined) return known;
  const durations = durationKeys.map((key) => [key, parseDuration(String(valueAt(config, key)))]);
  const ms = Object.fromEntries(durations) as Record<DurationKey, number>;
  const fingerprint = config.output.elasticsearch.ssl.ca_trusted_fingerprint;
  const view: RuntimeConfig = {
    ms,
    listen: { intake: parseHostPort(config.server.host), admin: parseHostPort(config.admin.host) },
    elasticsearch: {
      ...config.output.elasticsearch,
      timeoutMs: ms['output.elasticsearch.timeout'],
      caFingerprint: fingerprint ? fingerprint.replace(/[:\s]/g, '').toLowerCase() : null,
    },
    networks: {
      allowed: config.server.allowed_networks.map(parseCidr),
      trustedProxies: config.server.trusted_proxies.map(parseCidr),
    },
  };
  views.set(config, view);
  return view;
}
