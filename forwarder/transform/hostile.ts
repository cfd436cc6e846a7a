import { digitRunFlags, mayOverflowFloat } from './digit-runs';

/**
 * What JavaScript's JSON.parse accepts but a document must not carry: numbers that do not fit a float64
 * (1e400 parses to Infinity, which JSON.stringify writes as null: the field would vanish silently) and nesting
 * deeper than Elasticsearch or our own stringify can take. The proxy refuses such lines with 400 as APM Server
 * does; the forwarder checks again so a job enqueued by an older or differently configured proxy can never
 * become a poison job.
 */

/** Deeper than this is refused (Elasticsearch's own parser stops at 1,000 by default: index.mapping.depth.limit is lower still). */
export const maxEventDepth = 1000;

/**
 * Why `value` (parsed from `line`) cannot be indexed, or undefined when it can. Iterative: no stack to overflow.
 * Numbers are checked only on a line that can hold one that is not finite (`flags`, digit-runs.ts: a 3-digit
 * exponent or a run of 200 digits).
 */
export function unindexableReason(line: string, value: unknown, flags = digitRunFlags(line)): string | undefined {
  const checkNumbers = (flags & mayOverflowFloat) !== 0;
  // The walk costs about a tenth of the parse: skip it for the lines (nearly all) that cannot fail it.
  if (!checkNumbers && !mayNestDeeperThan(line, maxEventDepth)) return undefined;
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const top = stack.pop();
    if (top === undefined) break;
    const v = top.value;
    if (typeof v === 'number') {
      if (checkNumbers && !Number.isFinite(v))
        return 'a number is out of the float64 range (it would be indexed as null)';
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (top.depth >= maxEventDepth) return `nesting deeper than ${maxEventDepth} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && (typeof child === 'object' || (checkNumbers && typeof child === 'number')))
        stack.push({ value: child, depth: top.depth + 1 });
    }
  }
  return undefined;
}

/** At least `depth` opening brackets: the only lines that can nest that deep. */
function mayNestDeeperThan(line: string, depth: number): boolean {
  if (line.length < depth * 2) return false;
  let open = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c === 123 || c === 91) && ++open >= depth) return true;
  }
  return false;
}
