import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

import type { Logger } from 'pino';

import { describeForOperator, type ErrorCode, SidecarError } from '../core/errors';
import { type AgentResult, agentResults, resultFor, type ResultId } from '../core/results';
import type { ProxyMetrics } from './metrics';

/**
 * The one renderer of the agents' port (Sentry Relay's single `IntoResponse`): any thrown value becomes its row of
 * the agent result table (core/results.ts), and that row sets the status, `Retry-After`, `Connection: close`,
 * `nosniff`, the metric label and the log level. Only the body differs by protocol (an `ErrorBody` per route).
 */

/** What a route renders; the body is a Buffer only for binary protocols (OTLP protobuf). */
export interface Rendered {
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}

/** An answer: its status, and the result id that labels it in the metrics. */
export interface HandledResponse extends Rendered {
  readonly status: number;
  readonly result: string;
}

/** A failure as its row of the result table answers it, with the message given at the throw site. */
export interface Failure extends AgentResult {
  readonly code: ErrorCode;
  readonly result: ResultId;
}

/** The one mapping from a thrown value to its agent result; an operator error or a bug is internal_error. */
export function failureOf(err: unknown): Failure {
  const e = err instanceof SidecarError ? err : new SidecarError('SIDECAR_ERR_INTERNAL', undefined, { cause: err });
  const result = resultFor(e.code);
  const row: AgentResult = agentResults[result];
  return { ...row, code: e.code, result, message: result === 'internal_error' ? row.message : e.message };
}

/** A success as its row of the result table answers it: the row's status, the route's headers and body. */
export function answerWith(result: ResultId, rendered: Rendered): HandledResponse {
  return { ...rendered, status: agentResults[result].status, result };
}

/** How a route's protocol words a failure: APM Server's `{"error": ...}` unless the route declares its own. */
export type ErrorBody = (failure: Failure, headers: IncomingHttpHeaders) => Rendered;

/** APM Server's rule: JSON when Accept contains `*\/*` or `application/json` (a missing header means text). */
export function acceptsJson(acceptHeader: string | undefined): boolean {
  return acceptHeader !== undefined && (acceptHeader.includes('*/*') || acceptHeader.includes('application/json'));
}

/**
 * APM Server's body writer, Go's json.Encoder (SetEscapeHTML on by default): indented JSON when the client accepts
 * JSON, compact JSON as text otherwise (still JSON, as APM Server does), a trailing newline either way, and <, >, &,
 * U+2028 and U+2029 escaped (\u003c and so on).
 */
export function apmJson(body: unknown, json: boolean): Rendered & { body: string } {
  const text = json ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  const escaped = text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return { headers: { 'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8' }, body: `${escaped}\n` };
}

export const apmErrorBody: ErrorBody = (failure, headers) =>
  apmJson({ error: failure.message }, acceptsJson(headers.accept));

/** `{"error": ...}` as compact JSON whatever the Accept header (agent configuration, the pass-through). */
export const compactErrorBody: ErrorBody = (failure) => ({
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ error: failure.message }),
});

/** Where a failure happened, for its log line. */
type FailureContext = Readonly<Record<string, unknown>>;

export class AgentAnswers {
  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly logger: Logger,
  ) {}

  /** Any thrown value as an answer in the route's body encoding, logged at the level its result deserves. */
  fail(err: unknown, request: IncomingHttpHeaders, context: FailureContext, body = apmErrorBody): HandledResponse {
    const failure = this.log(err, context);
    const rendered = body(failure, request);
    const headers = { ...rendered.headers };
    if (failure.retryAfter !== undefined) headers['Retry-After'] = String(failure.retryAfter);
    return { ...rendered, status: failure.status, headers, result: failure.result };
  }

  /** The result of a failure, logged; for transports that frame it themselves (gRPC trailers). */
  log(err: unknown, context: FailureContext): Failure {
    const failure = failureOf(err);
    const line = { ...context, status: failure.status, code: failure.code };
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
    // 5xx are ours to look at (error); 4xx are debug, as Sentry Relay logs them, and so are the 503s: backpressure
    // and outages are expected under load, and whoever sees the state change logs it once.
    const ours = failure.status >= 500 && failure.status !== 503;
    if (ours) this.logger.error({ ...line, err }, describeForOperator(err));
    else this.logger.debug({ ...line, cause }, failure.message);
    return failure;
  }

  /** Counts the answer and writes it, unless the route already did (the pass-through streams its own). */
  send(res: ServerResponse, response: HandledResponse, seconds: number, intake: boolean, closing: boolean): void {
    this.metrics.countRequest(response.status, response.result, seconds, intake);
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string> = { 'X-Content-Type-Options': 'nosniff', ...response.headers };
    headers['Content-Length'] = String(Buffer.byteLength(response.body));
    // APM Server closes the connection after every error; while draining every connection closes.
    if (response.status >= 400 || closing) headers.Connection = 'close';
    res.writeHead(response.status, headers);
    res.end(response.body);
  }
}
