/**
 * The one error catalogue. Every failure apm-sidecar reports, to an agent over HTTP or to an operator at
 * startup, has a stable code here with its HTTP status, its default message (APM Server's wording where an
 * agent sees it), whether retrying can help, and the result id that doubles as a metric label.
 * docs/errors.md is generated from this table (npm run docs) and a test keeps the two in sync.
 */

import { redact } from './redact';

export interface ErrorSpec {
  /** HTTP status an agent receives; operator-facing errors use 500. */
  readonly status: number;
  /** Default message, as APM Server words it where an agent sees it. */
  readonly message: string;
  /** True when the same request may succeed later (backpressure, outages). */
  readonly retryable: boolean;
  /** Result id; used as the `result` label of the intake metrics. */
  readonly result: string;
  /** One line for docs/errors.md: when it happens and what to do. */
  readonly description: string;
}

export const errorCatalogue = {
  // --- agent-facing: authentication and authorisation -------------------------------------------------
  SIDECAR_ERR_UNAUTHORIZED: {
    status: 401,
    message: 'authentication failed',
    retryable: false,
    result: 'unauthorized',
    description: "Missing, malformed or unknown secret token or API key. Check the agent's secretToken / apiKey.",
  },
  SIDECAR_ERR_FORBIDDEN: {
    status: 403,
    message: 'forbidden request',
    retryable: false,
    result: 'forbidden',
    description:
      'The credential is valid but lacks the privilege (API key without event:write), or the endpoint is disabled.',
  },
  SIDECAR_ERR_NETWORK_NOT_ALLOWED: {
    status: 403,
    message: 'forbidden request: client address not allowed',
    retryable: false,
    result: 'forbidden_network',
    description: 'The client address is outside server.allowed_networks.',
  },
  SIDECAR_ERR_RUM_DISABLED: {
    status: 403,
    message:
      'forbidden request: RUM endpoint is disabled. Configure the `apm-server.rum` section in apm-server.yml to enable ingestion of RUM events. If you are not using the RUM agent, you can safely ignore this error.',
    retryable: false,
    result: 'forbidden_rum',
    description:
      'RUM intake is off (server.rum.enabled: false, the default). Set server.rum.enabled (APM_SIDECAR_RUM_ENABLED) to serve the RUM agent.',
  },
  SIDECAR_ERR_ORIGIN_NOT_ALLOWED: {
    status: 403,
    message: 'forbidden request: origin not allowed',
    retryable: false,
    result: 'forbidden_origin',
    description:
      'A RUM request whose Origin matches none of server.rum.allow_origins ("forbidden request: origin: \'<origin>\' is not allowed").',
  },
  SIDECAR_ERR_ANONYMOUS_NOT_ALLOWED: {
    status: 403,
    message: 'forbidden request: anonymous access not permitted',
    retryable: false,
    result: 'forbidden_anonymous',
    description:
      'An anonymous RUM request names an agent or service outside server.auth.anonymous.allow_agent / allow_service.',
  },
  SIDECAR_ERR_ANONYMOUS_RATE_LIMITED: {
    status: 429,
    message: 'rate limit exceeded',
    retryable: true,
    result: 'rate_limited_anonymous',
    description:
      'An anonymous client IP sent more than server.auth.anonymous.rate_limit.event_limit events a second (bursts 3x). Events before the limit was hit are accepted.',
  },
  SIDECAR_ERR_AGENT_CONFIG_DISABLED: {
    status: 403,
    message:
      'forbidden request: Agent remote configuration is disabled. Configure the `agent_config` section in the apm-sidecar configuration to enable it. If you are not using remote configuration, you can safely ignore this error.',
    retryable: false,
    result: 'forbidden_agent_config',
    description:
      'Central agent configuration is off (agent_config.source: none). Agents read this as "central config off".',
  },
  SIDECAR_ERR_AGENT_CONFIG_INVALID_QUERY: {
    status: 400,
    message: 'invalid query',
    retryable: false,
    result: 'invalid_query',
    description:
      '/config/v1/agents without service.name, or a POST body that is not {"service":{"name","environment"}} JSON.',
  },
  SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE: {
    status: 503,
    message: 'service unavailable',
    retryable: true,
    result: 'agent_config_unavailable',
    description:
      'Central agent configuration could not be read (cluster or upstream unreachable, or the credential lacks read on .apm-agent-configuration) and no earlier answer is cached. The log line names the fix.',
  },
  SIDECAR_ERR_RATE_LIMITED: {
    status: 429,
    message: 'too many requests',
    retryable: true,
    result: 'rate_limited',
    description: 'Too many distinct API keys in a minute (server.auth.api_key.limit).',
  },
  // --- agent-facing: the request itself ---------------------------------------------------------------
  SIDECAR_ERR_METHOD_NOT_ALLOWED: {
    status: 400,
    message: 'only POST requests are supported',
    retryable: false,
    result: 'method_not_allowed',
    description: 'Intake accepts only POST.',
  },
  SIDECAR_ERR_METHOD_NOT_SUPPORTED: {
    status: 405,
    message: 'method not supported',
    retryable: false,
    result: 'method_not_supported',
    description:
      'The root endpoint accepts GET and HEAD only; the pass-through GET, POST, HEAD and OPTIONS (TRACE, CONNECT and the rest are refused).',
  },
  SIDECAR_ERR_PASSTHROUGH_REFUSED: {
    status: 400,
    message: 'request refused',
    retryable: false,
    result: 'passthrough_refused',
    description:
      'A request for the upstream (upstream.url) with an encoded slash or backslash or a dot segment in its path, or asking for a protocol upgrade (WebSocket): such requests are never passed on.',
  },
  SIDECAR_ERR_INVALID_CONTENT_TYPE: {
    status: 400,
    message: 'invalid content type',
    retryable: false,
    result: 'invalid_content_type',
    description: 'Intake requests must have Content-Type application/x-ndjson (or none).',
  },
  SIDECAR_ERR_INVALID_INPUT: {
    status: 400,
    message: 'validation error',
    retryable: false,
    result: 'validation_error',
    description:
      'A line is not valid JSON, not a known event type, or breaks the intake v2 rules. Valid lines of the same request are still accepted.',
  },
  SIDECAR_ERR_EVENT_TOO_LARGE: {
    status: 400,
    message: 'event exceeded the permitted size.',
    retryable: false,
    result: 'event_too_large',
    description: 'A line is larger than server.max_event_size.',
  },
  SIDECAR_ERR_REQUEST_TOO_LARGE: {
    status: 400,
    message: 'request body exceeded the permitted size.',
    retryable: false,
    result: 'request_too_large',
    description: 'The decompressed body is larger than server.max_request_size (a decompression bomb is cut off here).',
  },
  SIDECAR_ERR_INVALID_COMPRESSION: {
    status: 400,
    message: 'invalid compressed body',
    retryable: false,
    result: 'invalid_compression',
    description: 'The body is not valid gzip or deflate data as its Content-Encoding (or first bytes) claim.',
  },
  SIDECAR_ERR_OTLP_INVALID: {
    status: 400,
    message: 'failed to unmarshal request body',
    retryable: false,
    result: 'otlp_invalid',
    description:
      'An OTLP/HTTP body that is not a valid export request of its signal (protobuf, or OTLP/JSON with hex ids); nothing of it is queued. The message names the field.',
  },
  SIDECAR_ERR_OTLP_MEDIA_TYPE: {
    status: 415,
    message: 'unsupported media type: OTLP/HTTP accepts application/x-protobuf or application/json',
    retryable: false,
    result: 'otlp_media_type',
    description:
      'An OTLP/HTTP request whose Content-Type is neither application/x-protobuf nor application/json (none means protobuf).',
  },
  SIDECAR_ERR_REQUEST_TIMEOUT: {
    status: 408,
    message: 'request timed out',
    retryable: true,
    result: 'request_timeout',
    description: 'The client sent nothing for server.idle_timeout or took longer than server.read_timeout.',
  },
  SIDECAR_ERR_NOT_FOUND: {
    status: 404,
    message: '404 page not found',
    retryable: false,
    result: 'not_found',
    description: 'No such endpoint, and no upstream configured to pass it to.',
  },
  // --- agent-facing: backpressure and availability ----------------------------------------------------
  SIDECAR_ERR_QUEUE_FULL: {
    status: 503,
    message: 'queue is full',
    retryable: true,
    result: 'queue_full',
    description:
      'The queue is over queue.high_water_mark. Scale forwarders or check Elasticsearch; agents back off and retry.',
  },
  SIDECAR_ERR_QUEUE_UNAVAILABLE: {
    status: 503,
    message: 'queue is full',
    retryable: true,
    result: 'queue_unavailable',
    description: 'Redis is unreachable or did not acknowledge the job; nothing was accepted. Check Redis.',
  },
  SIDECAR_ERR_QUEUE_NOT_DURABLE: {
    status: 503,
    message: 'queue is full',
    retryable: true,
    result: 'queue_not_durable',
    description:
      'Redis no longer gives the configured queue.durability (e.g. restarted with appendonly no, or a replica lost); nothing is accepted until it does. /readyz says why; fix the Redis config.',
  },
  SIDECAR_ERR_OVERLOADED: {
    status: 503,
    message: 'server is overloaded',
    retryable: true,
    result: 'overloaded',
    description:
      'The decompressed intake bytes held in memory across all requests reached server.max_inflight_bytes; nothing of the request was accepted. Agents retry; raise the key (and the memory limit) or add proxies.',
  },
  SIDECAR_ERR_SHUTTING_DOWN: {
    status: 503,
    message: 'server is shutting down',
    retryable: true,
    result: 'shutting_down',
    description: 'The process is draining after SIGTERM.',
  },
  SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE: {
    status: 503,
    message: 'unable to verify the API key: Elasticsearch is unavailable',
    retryable: true,
    result: 'auth_unavailable',
    description: 'API-key verification needs Elasticsearch and it could not be reached.',
  },
  SIDECAR_ERR_UPSTREAM_UNAVAILABLE: {
    status: 502,
    message: 'upstream unavailable',
    retryable: true,
    result: 'upstream_unavailable',
    description: 'The upstream (upstream.url) refused or reset the connection.',
  },
  SIDECAR_ERR_UPSTREAM_TIMEOUT: {
    status: 504,
    message: 'upstream timed out',
    retryable: true,
    result: 'upstream_timeout',
    description: 'The upstream did not answer within upstream.timeout.',
  },
  SIDECAR_ERR_INTERNAL: {
    status: 500,
    message: 'internal server error',
    retryable: false,
    result: 'internal_error',
    description: 'A bug. The log line at error level has the cause.',
  },
  // --- operator-facing: refused to start or to work ---------------------------------------------------
  SIDECAR_ERR_CONFIG_INVALID: {
    status: 500,
    message: 'invalid configuration',
    retryable: false,
    result: 'config_invalid',
    description: 'A key is unknown or has a bad value; the message names the key and the fix.',
  },
  SIDECAR_ERR_INSECURE_CREDENTIALS: {
    status: 500,
    message: 'credentials are configured but TLS is off',
    retryable: false,
    result: 'insecure_credentials',
    description:
      'A secret token or API key without TLS protects nothing. Configure server.ssl.* or set server.auth.allow_insecure: true.',
  },
  SIDECAR_ERR_LISTEN_FAILED: {
    status: 500,
    message: 'cannot listen on the configured address',
    retryable: false,
    result: 'listen_failed',
    description:
      'The address of server.host (APM_SIDECAR_HOST) or admin.host (APM_SIDECAR_ADMIN_HOST) is taken by another process (EADDRINUSE), privileged or not on this machine. The message names the key.',
  },
  SIDECAR_ERR_DATA_DIR_IN_USE: {
    status: 500,
    message: 'the data directory is in use by another apm-sidecar start',
    retryable: false,
    result: 'data_dir_in_use',
    description:
      'A running `apm-sidecar start` owns path.data (its pid is in path.data/start.pid). Stop it, or give this one another path.data (APM_SIDECAR_DATA).',
  },
  SIDECAR_ERR_DLQ_FULL: {
    status: 500,
    message: 'the dead-letter queue is full',
    retryable: true,
    result: 'dlq_full',
    description:
      'queue.dead_letter.max_entries documents are dead-lettered and queue.dead_letter.when_full is block: forwarders stop taking jobs (nothing is dropped) and the queue backs up until `apm-sidecar dlq replay` or `purge` makes room, or max_entries is raised.',
  },
  SIDECAR_ERR_REDIS_POLICY: {
    status: 500,
    message: 'Redis must run with maxmemory-policy noeviction',
    retryable: false,
    result: 'redis_policy',
    description:
      'Any eviction policy can silently drop queued events. Run CONFIG SET maxmemory-policy noeviction (and persist it).',
  },
  SIDECAR_ERR_REDIS_DURABILITY: {
    status: 500,
    message: 'Redis cannot provide the configured queue.durability',
    retryable: false,
    result: 'redis_durability',
    description:
      'queue.durability fsync needs appendonly yes + appendfsync always; replicated needs enough connected replicas.',
  },
  SIDECAR_ERR_ES_UNAVAILABLE: {
    status: 503,
    message: 'Elasticsearch is unavailable',
    retryable: true,
    result: 'es_unavailable',
    description: 'The cluster could not be reached (connection refused, timeout, TLS failure).',
  },
  SIDECAR_ERR_ES_NOT_ELASTICSEARCH: {
    status: 502,
    message: 'the server at output.elasticsearch.hosts is not Elasticsearch',
    retryable: false,
    result: 'es_not_elasticsearch',
    description: 'The response lacked the x-elastic-product: Elasticsearch header. Check the host and port.',
  },
  SIDECAR_ERR_ES_AUTH: {
    status: 500,
    message: 'Elasticsearch rejected the credentials',
    retryable: false,
    result: 'es_auth',
    description: 'output.elasticsearch username/password or api_key are wrong or expired.',
  },
  SIDECAR_ERR_ES_PRIVILEGES: {
    status: 500,
    message: 'the Elasticsearch credential lacks required privileges',
    retryable: false,
    result: 'es_privileges',
    description: 'The message names each missing privilege; apm-sidecar setup creates the writer role that has them.',
  },
  SIDECAR_ERR_ES_TLS: {
    status: 502,
    message: 'the TLS connection to Elasticsearch could not be verified',
    retryable: false,
    result: 'es_tls',
    description:
      "The cluster's certificate is not signed by output.elasticsearch.ssl.certificate_authorities, does not match ca_trusted_fingerprint or the host name, or the host speaks plain HTTP. The message names which.",
  },
  SIDECAR_ERR_ES_REQUEST_REJECTED: {
    status: 500,
    message: 'Elasticsearch rejected a request',
    retryable: false,
    result: 'es_request_rejected',
    description:
      "A setup or check request got a 4xx other than 401/403 (for example an invalid template); the message carries Elasticsearch's reason.",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface SidecarErrorOptions {
  readonly cause?: unknown;
  /** What an operator should do about it ("grant create_doc on traces-apm*"). */
  readonly remediation?: string;
}

export class SidecarError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly remediation: string | undefined;

  constructor(code: ErrorCode, message?: string, options: SidecarErrorOptions = {}) {
    const spec: ErrorSpec = errorCatalogue[code];
    super(message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidecarError';
    this.code = code;
    this.status = spec.status;
    this.retryable = spec.retryable;
    this.remediation = options.remediation;
  }
}

export function isSidecarError(err: unknown): err is SidecarError {
  return err instanceof SidecarError;
}

export interface ErrorOutcome {
  readonly code: ErrorCode;
  readonly status: number;
  /** `{"error": ...}`, the body shape of every non-intake failure. */
  readonly body: { readonly error: string };
  readonly result: string;
  /** 5xx are ours to look at (error); 4xx are the client's (debug), as Sentry Relay logs them. */
  readonly logLevel: 'error' | 'warn' | 'debug';
  readonly retryable: boolean;
}

/** The one function that turns any thrown value into status, body, metric label and log level. */
export function toErrorOutcome(err: unknown): ErrorOutcome {
  const e = isSidecarError(err) ? err : new SidecarError('SIDECAR_ERR_INTERNAL', undefined, { cause: err });
  const spec: ErrorSpec = errorCatalogue[e.code];
  // Backpressure and outages (retryable 503s) are expected under load and are counted in metrics; the state
  // change behind them (queue full, Redis down) is logged once by whoever detects it, not once per request.
  const logLevel = e.status >= 500 ? (e.retryable && e.status === 503 ? 'debug' : 'error') : 'debug';
  return {
    code: e.code,
    status: e.status,
    body: { error: e.message },
    result: spec.result,
    logLevel,
    retryable: e.retryable,
  };
}

/** An operator-facing message: what failed, why, and the fix. */
export function describeForOperator(err: unknown): string {
  if (isSidecarError(err)) {
    const fix = err.remediation ?? errorCatalogue[err.code].description;
    return redact(`${err.code}: ${err.message}. To remediate: ${fix}`);
  }
  return redact(err instanceof Error ? err.message : String(err));
}
