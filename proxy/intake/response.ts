import { errorCatalogue, toErrorOutcome } from '../../core/errors';
import type { IntakeOutcome } from './process';

/**
 * Intake responses exactly as APM Server writes them: 202 with no body (`{"accepted":N}` with ?verbose),
 * otherwise `{"accepted":N,"errors":[{"message","document"}]}` with at most 5 errors and the highest status
 * among them; `X-Content-Type-Options: nosniff` always; `Connection: Close` on every status >= 400. JSON is
 * Go's encoding/json output: indented by two spaces when the client accepts JSON, compact (but still JSON,
 * as APM Server does) under `text/plain`, a trailing newline either way, and <, >, & escaped.
 */

/** Any answer; the body is a Buffer only for binary protocols (OTLP protobuf). */
export interface AnyResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}
export interface RenderedResponse extends AnyResponse {
  readonly body: string;
}

const listedErrors = 5;
const accepted = 202;

/** APM Server's rule: JSON when Accept contains `*\/*` or `application/json` (a missing header means text). */
export function acceptsJson(acceptHeader: string | undefined): boolean {
  return acceptHeader !== undefined && (acceptHeader.includes('*/*') || acceptHeader.includes('application/json'));
}

const goEscapes: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's json.Encoder output (SetEscapeHTML on by default), newline included. */
export function goJson(value: unknown, pretty: boolean): string {
  const text = pretty ? JSON.stringify(value, null, 2) : JSON.stringify(value);
  return `${text.replace(/[<>&\u2028\u2029]/g, (c) => goEscapes[c] ?? c)}\n`;
}

function render(status: number, body: unknown, json: boolean): RenderedResponse {
  const headers: Record<string, string> = { 'X-Content-Type-Options': 'nosniff' };
  if (status >= 400) headers.Connection = 'Close';
  if (body === undefined) return { status, headers, body: '' };
  headers['Content-Type'] = json ? 'application/json' : 'text/plain; charset=utf-8';
  return { status, headers, body: goJson(body, json) };
}

interface JsonError {
  message: string;
  document?: string;
}

export function renderIntakeResponse(
  outcome: Pick<IntakeOutcome, 'accepted' | 'errors'>,
  options: { verbose: boolean; acceptsJson: boolean },
): RenderedResponse {
  let status = accepted;
  for (const error of outcome.errors) status = Math.max(status, errorCatalogue[error.code].status);
  const errors: JsonError[] = outcome.errors
    .slice(0, listedErrors)
    .map((e) =>
      e.document === undefined || e.document === ''
        ? { message: e.message }
        : { message: e.message, document: e.document },
    );
  const body = errors.length > 0 ? { accepted: outcome.accepted, errors } : { accepted: outcome.accepted };
  return render(status, status >= 400 || options.verbose ? body : undefined, options.acceptsJson);
}

/** `{"error": "..."}` for failures outside the intake stream (auth, backpressure, shutdown), via toErrorOutcome. */
export function renderErrorResponse(err: unknown, acceptsJsonBody: boolean): RenderedResponse {
  const outcome = toErrorOutcome(err);
  return render(outcome.status, outcome.body, acceptsJsonBody);
}
