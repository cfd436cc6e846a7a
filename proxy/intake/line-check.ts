import type { ErrorCode } from '../../core/errors';
import { validateLine, type EventKind } from './validate';

/**
 * One intake line judged as APM Server judges it: the object type comes from the first quoted string on the
 * line (so `{ "invalid-json" }` is an unknown type, not a JSON error), then one JSON.parse, then the schema.
 */

export type LineVerdict =
  | { readonly ok: true; readonly kind: EventKind | 'metadata'; readonly rewritten: string | null }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

const eventKinds: ReadonlyMap<string, EventKind> = new Map<string, EventKind>([
  ['transaction', 'transaction'],
  ['span', 'span'],
  ['error', 'error'],
  ['metricset', 'metricset'],
  ['log', 'log'],
]);

/** APM Server's identifyEventType: the text between the first quote (" or ') and the next same quote. */
export function identifyObjectType(line: string): string | null {
  const double = line.indexOf('"');
  const single = line.indexOf("'");
  const start = double === -1 ? single : single === -1 ? double : Math.min(double, single);
  if (start === -1) return null;
  const end = line.indexOf(line.charAt(start), start + 1);
  return end === -1 ? null : line.slice(start + 1, end);
}

interface Parsed {
  readonly value: unknown;
  /** The JSON value without trailing bytes, when the line had any (APM Server reads one value and ignores the rest). */
  readonly rewritten: string | null;
}

const trailingDataPosition = /after JSON at position (\d+)/;

function parseJson(line: string): Parsed | { readonly error: string } {
  try {
    return { value: JSON.parse(line), rewritten: null };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const trailing = trailingDataPosition.exec(message);
    if (trailing?.[1] !== undefined) {
      const head = line.slice(0, Number(trailing[1]));
      try {
        return { value: JSON.parse(head), rewritten: head };
      } catch {
        // fall through: report the original error
      }
    }
    return { error: `decode error: data read error: ${message}` };
  }
}

function invalid(message: string): LineVerdict {
  return { ok: false, code: 'SIDECAR_ERR_INVALID_INPUT', message };
}

function parseAndValidate(kind: EventKind | 'metadata', line: string): LineVerdict {
  const parsed = parseJson(line);
  if ('error' in parsed) return invalid(parsed.error);
  const failure = validateLine(kind, parsed.value);
  return failure === null ? { ok: true, kind, rewritten: parsed.rewritten } : invalid(failure);
}

/** An event line (after the metadata line). */
export function checkEventLine(line: string): LineVerdict {
  const type = identifyObjectType(line);
  const kind = type === null ? undefined : eventKinds.get(type);
  if (kind === undefined) return invalid(`did not recognize object type: ${JSON.stringify(type ?? '')}`);
  return parseAndValidate(kind, line);
}

/** The first line. `terminated` is false when the stream ended before its '\n'. */
export function checkMetadataLine(line: string, terminated: boolean): LineVerdict {
  if (!terminated) return invalid('EOF while reading metadata');
  // APM Server also takes RUM v3 metadata ("m") here; RUM is not served by apm-sidecar, so it is refused.
  if (identifyObjectType(line) !== 'metadata') return invalid('"metadata" or "m" required');
  return parseAndValidate('metadata', line);
}
