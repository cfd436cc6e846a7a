/**
 * The agent result table, in APM Server's style (internal/beater/request/result.go): every answer the agents' port
 * gives has a result id here with its HTTP status and wording; the id doubles as the `result` label of the request
 * metrics. Operator errors (refused to start, Elasticsearch preconditions) have no HTTP status: they live in
 * core/errors.ts. docs/errors.md is generated from this table and that catalogue (npm run docs).
 */

export interface AgentResult {
  readonly status: number;
  /** As APM Server words it. */
  readonly message: string;
  /** A failure's stable code (logs, `new SidecarError(code)`); none for a success. */
  readonly code?: `SIDECAR_ERR_${string}`;
  /** Seconds for `Retry-After`. */
  readonly retryAfter?: number;
  /** For docs/errors.md: when it happens and what to do. */
  readonly description: string;
}

/** Backpressure and outages: the agent retries after a pause. */
const outage = { status: 503, retryAfter: 5 } as const;
/** APM Server words every refusal of its queue alike. */
const queueRefusal = { ...outage, message: 'queue is full' } as const;

export const agentResults = {
  // --- successes ----------------------------------------------------------------------------------------------
  ok: { status: 200, message: 'ok', description: 'Root endpoint and agent configuration answered.' },
  accepted: { status: 202, message: 'accepted', description: 'Every valid event of the request is queued in Redis.' },
  exported: { status: 200, message: 'ok', description: 'An OTLP export request (HTTP or gRPC) is queued in Redis.' },
  preflight: { status: 200, message: 'ok', description: 'A RUM CORS preflight (OPTIONS) answered.' },
  not_modified: { status: 304, message: 'not modified', description: 'The agent already has this configuration.' },
  // --- authentication and authorisation -----------------------------------------------------------------------
  unauthorized: {
    code: 'SIDECAR_ERR_UNAUTHORIZED',
    status: 401,
    message: 'authentication failed',
    description: "Missing, malformed or unknown secret token or API key. Check the agent's secretToken / apiKey.",
  },
  forbidden: {
    code: 'SIDECAR_ERR_FORBIDDEN',
    status: 403,
    message: 'forbidden request',
    description:
      'The credential is valid but lacks the privilege (API key without event:write), or the endpoint is disabled.',
  },
  forbidden_network: {
    code: 'SIDECAR_ERR_NETWORK_NOT_ALLOWED',
    status: 403,
    message: 'forbidden request: client address not allowed',
    description: 'The client address is outside server.allowed_networks.',
  },
  forbidden_rum: {
    code: 'SIDECAR_ERR_RUM_DISABLED',
    status: 403,
    message:
      'forbidden request: RUM endpoint is disabled. Configure the `apm-server.rum` section in apm-server.yml to enable ingestion of RUM events. If you are not using the RUM agent, you can safely ignore this error.',
    description:
      'RUM intake is off (server.rum.enabled: false, the default). Set server.rum.enabled (APM_SIDECAR_RUM_ENABLED) to serve the RUM agent.',
  },
  forbidden_origin: {
    code: 'SIDECAR_ERR_ORIGIN_NOT_ALLOWED',
    status: 403,
    message: 'forbidden request: origin not allowed',
    description:
      'A RUM request whose Origin matches none of server.rum.allow_origins ("forbidden request: origin: \'<origin>\' is not allowed").',
  },
  forbidden_anonymous: {
    code: 'SIDECAR_ERR_ANONYMOUS_NOT_ALLOWED',
    status: 403,
    message: 'forbidden request: anonymous access not permitted',
    description:
      'An anonymous RUM request names an agent or service outside server.auth.anonymous.allow_agent / allow_service.',
  },
  rate_limited_anonymous: {
    code: 'SIDECAR_ERR_ANONYMOUS_RATE_LIMITED',
    status: 429,
    message: 'rate limit exceeded',
    description:
      'An anonymous client IP sent more than server.auth.anonymous.rate_limit.event_limit events a second (bursts 3x). Events before the limit was hit are accepted.',
  },
  forbidden_agent_config: {
    code: 'SIDECAR_ERR_AGENT_CONFIG_DISABLED',
    status: 403,
    message:
      'forbidden request: Agent remote configuration is disabled. Configure the `agent_config` section in the apm-sidecar configuration to enable it. If you are not using remote configuration, you can safely ignore this error.',
    description:
      'Central agent configuration is off (agent_config.source: none). Agents read this as "central config off".',
  },
  invalid_query: {
    code: 'SIDECAR_ERR_AGENT_CONFIG_INVALID_QUERY',
    status: 400,
    message: 'invalid query',
    description:
      '/config/v1/agents without service.name, or a POST body that is not {"service":{"name","environment"}} JSON.',
  },
  agent_config_unavailable: {
    code: 'SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE',
    status: 503,
    message: 'service unavailable',
    // No Retry-After: the answer's Cache-Control max-age=300 (APM Server's errMaxAgeDuration) paces the agent.
    description:
      'Central agent configuration could not be read (cluster or upstream unreachable, or the credential lacks read on .apm-agent-configuration) and no earlier answer is cached. The log line names the fix.',
  },
  rate_limited: {
    code: 'SIDECAR_ERR_RATE_LIMITED',
    status: 429,
    message: 'too many requests',
    description: 'Too many distinct API keys in a minute (server.auth.api_key.limit).',
  },
  // --- the request itself -------------------------------------------------------------------------------------
  method_not_allowed: {
    code: 'SIDECAR_ERR_METHOD_NOT_ALLOWED',
    status: 400,
    message: 'only POST requests are supported',
    description: 'Intake accepts only POST.',
  },
  method_not_supported: {
    code: 'SIDECAR_ERR_METHOD_NOT_SUPPORTED',
    status: 405,
    message: 'method not supported',
    description:
      'The root endpoint accepts GET and HEAD only; the pass-through GET, POST, HEAD and OPTIONS (TRACE, CONNECT and the rest are refused).',
  },
  passthrough_refused: {
    code: 'SIDECAR_ERR_PASSTHROUGH_REFUSED',
    status: 400,
    message: 'request refused',
    description:
      'A request for the upstream (upstream.url) with an encoded slash or backslash or a dot segment in its path, or asking for a protocol upgrade (WebSocket): such requests are never passed on.',
  },
  invalid_content_type: {
    code: 'SIDECAR_ERR_INVALID_CONTENT_TYPE',
    status: 400,
    message: 'invalid content type',
    description: 'Intake requests must have Content-Type application/x-ndjson (or none).',
  },
  validation_error: {
    code: 'SIDECAR_ERR_INVALID_INPUT',
    status: 400,
    message: 'validation error',
    description:
      'A line is not valid JSON, not a known event type, or breaks the intake v2 rules. Valid lines of the same request are still accepted.',
  },
  event_too_large: {
    code: 'SIDECAR_ERR_EVENT_TOO_LARGE',
    status: 400,
    message: 'event exceeded the permitted size.',
    description: 'A line is larger than server.max_event_size.',
  },
  request_too_large: {
    code: 'SIDECAR_ERR_REQUEST_TOO_LARGE',
    status: 400,
    message: 'request body exceeded the permitted size.',
    description:
      'The decompressed body is larger than server.max_request_size (a decompression bomb is cut off here), or a compressed body is larger than server.max_inflight_bytes / 7.5 received (3.2 MiB by default): it is queued as it came and costs about 7.5 times its size in memory while it is queued.',
  },
  invalid_compression: {
    code: 'SIDECAR_ERR_INVALID_COMPRESSION',
    status: 400,
    message: 'invalid compressed body',
    description: 'The body is not valid gzip or deflate data as its Content-Encoding (or first bytes) claim.',
  },
  otlp_invalid: {
    code: 'SIDECAR_ERR_OTLP_INVALID',
    status: 400,
    message: 'failed to unmarshal request body',
    description:
      'An OTLP/HTTP body that is not a valid export request of its signal (protobuf, or OTLP/JSON with hex ids); nothing of it is queued. The message names the field.',
  },
  otlp_media_type: {
    code: 'SIDECAR_ERR_OTLP_MEDIA_TYPE',
    status: 415,
    message: 'unsupported media type: OTLP/HTTP accepts application/x-protobuf or application/json',
    description:
      'An OTLP/HTTP request whose Content-Type is neither application/x-protobuf nor application/json (none means protobuf).',
  },
  request_timeout: {
    code: 'SIDECAR_ERR_REQUEST_TIMEOUT',
    status: 408,
    message: 'request timed out',
    description: 'The client sent nothing for server.idle_timeout or took longer than server.read_timeout.',
  },
  grpc_protocol: {
    code: 'SIDECAR_ERR_GRPC_PROTOCOL',
    status: 400,
    message: 'gRPC protocol error',
    description:
      'An OTLP/gRPC call that is not one length-prefixed message (gRPC status Internal); no HTTP status reaches the client, only the gRPC code.',
  },
  grpc_encoding: {
    code: 'SIDECAR_ERR_GRPC_ENCODING',
    status: 415,
    message: 'unsupported grpc-encoding',
    description:
      'An OTLP/gRPC message compressed with an encoding other than gzip (gRPC status Unimplemented); send gzip or identity.',
  },
  not_found: {
    code: 'SIDECAR_ERR_NOT_FOUND',
    status: 404,
    message: '404 page not found',
    description:
      'No such endpoint, and no upstream configured to pass it to; on OTLP/gRPC an unknown service or method (Unimplemented).',
  },
  // --- backpressure and availability --------------------------------------------------------------------------
  queue_full: {
    ...queueRefusal,
    code: 'SIDECAR_ERR_QUEUE_FULL',
    description:
      'The queue is over queue.high_water_mark. Scale forwarders or check Elasticsearch; agents back off and retry.',
  },
  queue_unavailable: {
    ...queueRefusal,
    code: 'SIDECAR_ERR_QUEUE_UNAVAILABLE',
    description: 'Redis is unreachable or did not acknowledge the job; nothing was accepted. Check Redis.',
  },
  queue_not_durable: {
    ...queueRefusal,
    code: 'SIDECAR_ERR_QUEUE_NOT_DURABLE',
    description:
      'Redis no longer gives the configured queue.durability (e.g. restarted with appendonly no, or a replica lost); nothing is accepted until it does. /readyz says why; fix the Redis config.',
  },
  overloaded: {
    ...outage,
    code: 'SIDECAR_ERR_OVERLOADED',
    message: 'server is overloaded',
    description:
      'The decompressed intake bytes held in memory across all requests reached server.max_inflight_bytes; nothing of the request was accepted. Agents retry; raise the key (and the memory limit) or add proxies.',
  },
  shutting_down: {
    ...outage,
    code: 'SIDECAR_ERR_SHUTTING_DOWN',
    message: 'server is shutting down',
    description: 'The process is draining after SIGTERM.',
  },
  auth_unavailable: {
    ...outage,
    code: 'SIDECAR_ERR_AUTH_BACKEND_UNAVAILABLE',
    message: 'unable to verify the API key: Elasticsearch is unavailable',
    description: 'API-key verification needs Elasticsearch and it could not be reached.',
  },
  upstream_unavailable: {
    code: 'SIDECAR_ERR_UPSTREAM_UNAVAILABLE',
    status: 502,
    message: 'upstream unavailable',
    description: 'The upstream (upstream.url) refused or reset the connection.',
  },
  upstream_timeout: {
    code: 'SIDECAR_ERR_UPSTREAM_TIMEOUT',
    status: 504,
    message: 'upstream timed out',
    description: 'The upstream did not answer within upstream.timeout.',
  },
  internal_error: {
    code: 'SIDECAR_ERR_INTERNAL',
    status: 500,
    message: 'internal server error',
    description:
      'A bug, or an operator error (core/errors.ts) that reached a request. The log line at error level has its code and cause.',
  },
} as const satisfies Record<string, AgentResult>;

export type ResultId = keyof typeof agentResults;

/** The stable code of each agent-facing failure. */
export type AgentErrorCode = Extract<(typeof agentResults)[ResultId], { code: string }>['code'];

const resultOfCode = new Map<string, ResultId>(
  Object.entries(agentResults).flatMap(([id, r]: [string, AgentResult]) =>
    r.code === undefined ? [] : [[r.code, id as ResultId]],
  ),
);

export function isAgentErrorCode(code: string): code is AgentErrorCode {
  return resultOfCode.has(code);
}

/** The result a code answers with: its own for an agent-facing code, internal_error for an operator error. */
export function resultFor(code: string): ResultId {
  return resultOfCode.get(code) ?? 'internal_error';
}
