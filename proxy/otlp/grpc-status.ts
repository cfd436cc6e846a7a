import type { ResultId } from '../../core/results';

/**
 * The gRPC status code (google.golang.org/grpc/codes) of every agent result: what an OTLP/gRPC client reads in
 * the `grpc-status` trailer and an OTLP/HTTP client in the google.rpc.Status body. The HTTP-to-gRPC choices
 * follow gRPC's HTTP/2 transport in reverse (401 Unauthenticated, 403 PermissionDenied, 429 ResourceExhausted,
 * 502-504 Unavailable); a new result picks its code here.
 */
const ok = 0;
const unknown = 2;
const invalidArgument = 3;
const deadlineExceeded = 4;
const permissionDenied = 7;
const resourceExhausted = 8;
const unimplemented = 12;
const internal = 13;
const unavailable = 14;
const unauthenticated = 16;

export const grpcCodeOf = {
  ok,
  accepted: ok,
  exported: ok,
  preflight: ok,
  not_modified: ok,
  unauthorized: unauthenticated,
  forbidden: permissionDenied,
  forbidden_network: permissionDenied,
  forbidden_rum: permissionDenied,
  forbidden_origin: permissionDenied,
  forbidden_anonymous: permissionDenied,
  rate_limited_anonymous: resourceExhausted,
  forbidden_agent_config: permissionDenied,
  invalid_query: invalidArgument,
  agent_config_unavailable: unavailable,
  rate_limited: resourceExhausted,
  method_not_allowed: invalidArgument,
  method_not_supported: unknown,
  passthrough_refused: invalidArgument,
  invalid_content_type: invalidArgument,
  validation_error: invalidArgument,
  event_too_large: invalidArgument,
  request_too_large: invalidArgument,
  invalid_compression: invalidArgument,
  otlp_invalid: invalidArgument,
  otlp_media_type: invalidArgument,
  request_timeout: deadlineExceeded,
  // A call that is not one framed message (gRPC's "malformed request" is Internal).
  grpc_protocol: internal,
  // A message compressed with an encoding we do not decode: the gRPC spec asks for Unimplemented.
  grpc_encoding: unimplemented,
  // An unknown service or method.
  not_found: unimplemented,
  queue_full: unavailable,
  queue_unavailable: unavailable,
  queue_not_durable: unavailable,
  overloaded: unavailable,
  shutting_down: unavailable,
  auth_unavailable: unavailable,
  upstream_unavailable: unavailable,
  upstream_timeout: unavailable,
  internal_error: internal,
} as const satisfies Record<ResultId, number>;
