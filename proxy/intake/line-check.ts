import type { ErrorCode } from '../../core/errors';
import { replaceLoneSurrogates } from './json-bounds';
import { type LineKind, validateLine } from './validate';

/**
 * One intake line judged as APM Server judges it: the object type comes from the first quoted string on the
 * line (so `{ "invalid-json" }` is an unknown type, not a JSON error), then one JSON.parse, then the schema.
 */

export type LineVerdict =
  | { readonly ok: true; readonly kind: LineKind; readonly rewritten: string | null; readonly value: unknown }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Which first keys a route takes as events, and which as its metadata line. */
export interface IntakeDialect {
  readonly metadataKey: 'metadata' | 'm';
  readonly events: ReadonlyMap<string, LineKind>;
}

const kinds = (...names: LineKind[]): ReadonlyMap<string, LineKind> => new Map(names.map((n) => [n, n]));

export const intakeV2: IntakeDialect = {
  metadataKey: 'metadata',
  events: kinds('transaction', 'span', 'error', 'metricset', 'log'),
};
/** /intake/v2/rum/events: the v2 event types a browser agent sends (no log events). */
export const rumV2: IntakeDialect = {
  metadataKey: 'metadata',
  events: kinds('transaction', 'span', 'error', 'metricset'),
};
/** /intake/v3/rum/events: spans and breakdown metricsets travel inside their transaction. */
export const rumV3: IntakeDialect = { metadataKey: 'm', events: kinds('x', 'e') };

/** APM Server's identifyEventType: the text between the first quote (" or ') and the next same quote. */
export function identifyObjectType(line: string): string | null {
  const double = line.indexOf('"');
  // A single quote matters only before the first double one: look for it there, not through the whole line.
  const singleFirst = double === -1 || (double > 0 && line.lastIndexOf("'", double) !== -1);
  const start = singleFirst ? line.indexOf("'") : double;
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

function parseAndValidate(kind: LineKind, line: string): LineVerdict {
  const parsed = parseJson(line);
  if ('error' in parsed) return invalid(parsed.error);
  const text = parsed.rewritten ?? line;
  const failure = validateLine(kind, parsed.value, text);
  if (failure !== null) return invalid(failure);
  return { ok: true, kind, rewritten: replaceLoneSurrogates(text) ?? parsed.rewritten, value: parsed.value };
}

/** An event line (after the metadata line). */
export function checkEventLine(line: string, dialect: IntakeDialect = intakeV2): LineVerdict {
  const type = identifyObjectType(line);
  const kind = type === null ? undefined : dialect.events.get(type);
  if (kind === undefined) return invalid(`did not recognize object type: ${JSON.stringify(type ?? '')}`);
  return parseAndValidate(kind, line);
}

/**
 * Verdicts on recently accepted metadata lines, by their text. An agent sends the same metadata line with every
 * request, and judging it (one parse, the metadata schema) costs as much as two or three events, on a path that is
 * seldom hot enough to be optimized. The verdict is a function of the text alone (its object type picks the
 * schema, and the type is checked against the route before the cache is consulted); the parsed value is shared
 * by the requests that reuse it and is only read (line inspectors read it). Bounded: short lines, few of them.
 */
const metadataVerdicts = new Map<string, LineVerdict>();
const cachedMetadataMaxChars = 4096;
const cachedMetadataLines = 32;

/** The first line. `terminated` is false when the stream ended before its '\n'. */
export function checkMetadataLine(line: string, terminated: boolean, dialect: IntakeDialect = intakeV2): LineVerdict {
  if (!terminated) return invalid('EOF while reading metadata');
  // APM Server takes either key on every route; we take each route's own (v3 metadata only on the v3 route).
  if (identifyObjectType(line) !== dialect.metadataKey) return invalid('"metadata" or "m" required');
  if (line.length > cachedMetadataMaxChars) return parseAndValidate(dialect.metadataKey, line);
  const known = metadataVerdicts.get(line);
  if (known !== undefined) return known;
  const verdict = parseAndValidate(dialect.metadataKey, line);
  if (!verdict.ok) return verdict;
  if (metadataVerdicts.size >= cachedMetadataLines) {
    const oldest = metadataVerdicts.keys().next();
    if (oldest.done !== true) metadataVerdicts.delete(oldest.value);
  }
  metadataVerdicts.set(line, verdict);
  return verdict;
}
