import type { DecodedJob } from '../../../queue/contract';
import { isRecord } from '../json';
import { expandEvent, expandMetadata } from './v3-expand';

/** One event line after expansion; `part` numbers the documents a v3 transaction line became (0: the transaction). */
export interface ExpandedLine {
  readonly index: number;
  readonly part: number;
  readonly line: string;
}

function parse(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * A v3 job's lines as v2 lines: the `m` metadata line as `metadata`, each `x` line as its transaction,
 * metricsets and spans, each `e` line as an error. A line that does not parse is kept as it is (the proxy
 * validated it, so this is a corrupt job, and the transform dead-letters it with its reason).
 */
export function expandRumV3Job(decoded: DecodedJob): {
  readonly metadata: string;
  readonly events: readonly ExpandedLine[];
} {
  const m = parse(decoded.metadata);
  const metadata = isRecord(m) && isRecord(m.m) ? JSON.stringify(expandMetadata(m.m)) : decoded.metadata;
  const events: ExpandedLine[] = [];
  for (const { index, line } of decoded.events) {
    const value = parse(line);
    const expanded = isRecord(value) ? expandEvent(value) : [];
    if (expanded.length === 0) events.push({ index, part: 0, line });
    else expanded.forEach((event, part) => events.push({ index, part, line: JSON.stringify(event) }));
  }
  return { metadata, events };
}
