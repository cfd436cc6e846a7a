/**
 * What JavaScript's JSON.parse accepts and Go's decoder (APM Server) refuses or reads differently, decided
 * without a second parse of the line:
 * - nesting deeper than `maxJsonDepth` (APM Server's decoder, json-iterator, stops at 10,000 levels with
 *   "exceeded max depth"; Elasticsearch refuses documents nested more than 1,000 levels, so the proxy's bound
 *   is lower than both: a 202 must be indexable, and the forwarder's transform recurses);
 * - a number that does not fit a float64 (`1e400`, a 400-digit integer): JSON.parse makes it Infinity, which
 *   JSON.stringify writes as null, so the event would be indexed without that value. Go refuses it in typed
 *   fields ("value out of range"); the proxy refuses it everywhere, free-form maps (custom context) included;
 * - lone UTF-16 surrogate escapes (`"\ud800"`): Go replaces them with U+FFFD; so does the proxy (the line is
 *   stored rewritten), so the forwarder never sends Elasticsearch a string that is not valid Unicode.
 * Decided as Go does, so nothing to do: duplicate keys (the last one wins in both), `-0` (a float64 zero),
 * tiny numbers such as `1e-400` (0 in both).
 *
 * Where: typed fields are already judged by the schema (ajv refuses a non-finite number as not a number, and
 * their nesting is fixed), so depth and range are only walked inside free-form values (custom context, labels,
 * attributes, request bodies), through the `apmBounded` keyword (schema/keywords.ts): the cost is proportional
 * to those values, usually a handful of fields, not to the line. Fields the schema does not know are ignored by
 * the schema and by the forwarder alike, so their depth does not matter.
 */

/** Deepest accepted nesting of objects and arrays in one line (the line's own object is level 1). */
export const maxJsonDepth = 500;

export type BoundsProblem = 'depth' | 'range';

/** The first problem inside `value`, which sits at nesting `level` of its line (1: the line's object). */
export function boundsProblem(value: unknown, level: number): BoundsProblem | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : 'range';
  if (value === null || typeof value !== 'object') return null;
  if (level > maxJsonDepth) return 'depth';
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item !== null && typeof item === 'object') {
        const problem = boundsProblem(item, level + 1);
        if (problem !== null) return problem;
      } else if (typeof item === 'number' && !Number.isFinite(item)) return 'range';
    }
    return null;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (item !== null && typeof item === 'object') {
      const problem = boundsProblem(item, level + 1);
      if (problem !== null) return problem;
    } else if (typeof item === 'number' && !Number.isFinite(item)) return 'range';
  }
  return null;
}

/** The number token of `line` that overflows float64, for the error message (only called on that error). */
export function overflowingToken(line: string): string {
  for (const match of line.matchAll(/-?\d[\d.]*(?:[eE][+-]?\d+)?/g)) {
    if (!Number.isFinite(Number(match[0]))) return match[0].length > 40 ? `${match[0].slice(0, 40)}...` : match[0];
  }
  return 'number';
}

/** A \uD800-\uDFFF escape (preceded by an even number of backslashes, so it really is one), with its pair if any. */
const surrogateEscapes =
  /(?<=(?:^|[^\\])(?:\\\\)*)\\u([dD][89a-fA-F][0-9a-fA-F]{2})(?:\\u([dD][c-fC-F][0-9a-fA-F]{2}))?/g;
const surrogateEscape = /\\u[dD][89a-fA-F]/;

/** The line with lone surrogate escapes replaced by \ufffd (as Go decodes them), or null when it has none. */
export function replaceLoneSurrogates(line: string): string | null {
  if (!line.includes('\\u') || !surrogateEscape.test(line)) return null;
  let changed = false;
  const fixed = line.replace(surrogateEscapes, (whole: string, first: string, second: string | undefined) => {
    const high = /^[dD][89abAB]/.test(first);
    if (high && second !== undefined) return whole;
    changed = true;
    // A low surrogate after an unpaired one stands alone too.
    return second === undefined ? '\\ufffd' : '\\ufffd\\ufffd';
  });
  return changed ? fixed : null;
}
