import { isRecord, type JsonObject } from '../json';
import {
  errorNames,
  markGroupNames,
  markNames,
  metadataNames,
  type NameMap,
  spanNames,
  transactionNames,
} from './v3-names';

/**
 * RUM v3 (minified) lines expanded into the intake v2 lines they stand for, so that the v2 transform (and the
 * dead-letter queue, which keeps lines) sees one model. A v3 transaction becomes the transaction, its breakdown
 * metricsets and its spans: spans get the transaction's trace and id, and as parent the transaction or, with
 * `pi`, the span at that index.
 */

function rename(value: unknown, names: NameMap): unknown {
  if (Array.isArray(value)) return value.map((item) => rename(item, names));
  if (!isRecord(value)) return value;
  const out: JsonObject = {};
  for (const key in value) {
    const entry = names[key];
    if (entry === undefined) continue;
    const [long, children] = entry;
    const child = value[key];
    out[long] = children === undefined ? child : rename(child, children === 'list-of-same' ? names : children);
  }
  return out;
}

export function expandMetadata(m: JsonObject): JsonObject {
  return { metadata: rename(m, metadataNames) };
}

function expandMarks(k: unknown): JsonObject | undefined {
  if (!isRecord(k)) return undefined;
  const out: JsonObject = {};
  for (const group in k) {
    const measurements = k[group];
    if (!isRecord(measurements)) continue;
    const expanded: JsonObject = {};
    for (const name in measurements) expanded[markNames[name] ?? name] = measurements[name];
    out[markGroupNames[group] ?? group] = expanded;
  }
  return out;
}

/** The v2 `span` of the i-th span of a v3 transaction. */
function expandSpan(span: JsonObject, spans: readonly unknown[], tx: JsonObject): JsonObject {
  const out = rename(span, spanNames);
  const v2: JsonObject = isRecord(out) ? out : {};
  v2.trace_id = tx.tid;
  v2.transaction_id = tx.id;
  const pi = span.pi;
  const parent = typeof pi === 'number' && Number.isInteger(pi) && pi >= 0 ? spans[pi] : undefined;
  v2.parent_id = isRecord(parent) && typeof parent.id === 'string' ? parent.id : tx.id;
  return { span: v2 };
}

/** A v3 breakdown metricset (span self time in ms) as the v2 metricset (in µs) of its transaction. */
function expandMetricset(me: JsonObject, tx: JsonObject): JsonObject | undefined {
  const samples = isRecord(me.sa) ? me.sa : {};
  const out: JsonObject = {};
  const count = isRecord(samples.ysc) ? samples.ysc.v : undefined;
  const sum = isRecord(samples.yss) ? samples.yss.v : undefined;
  if (typeof count === 'number') out['span.self_time.count'] = { value: count };
  if (typeof sum === 'number') out['span.self_time.sum.us'] = { value: sum * 1000 };
  const span = isRecord(me.y) ? me.y : undefined;
  if (span === undefined || Object.keys(out).length === 0) return undefined; // APM Server keeps only span breakdowns
  const spanRef: JsonObject = {};
  if (typeof span.t === 'string') spanRef.type = span.t;
  if (typeof span.su === 'string') spanRef.subtype = span.su;
  const transaction: JsonObject = {};
  if (typeof tx.n === 'string') transaction.name = tx.n;
  if (typeof tx.t === 'string') transaction.type = tx.t;
  return { metricset: { samples: out, span: spanRef, transaction } };
}

/** One v3 event line's value ({"x"} or {"e"}) as v2 event objects, in order: transaction, metricsets, spans. */
export function expandEvent(event: JsonObject): JsonObject[] {
  if (isRecord(event.e)) return [{ error: rename(event.e, errorNames) }];
  const tx = event.x;
  if (!isRecord(tx)) return [];
  const transaction = rename(tx, transactionNames);
  const v2tx: JsonObject = isRecord(transaction) ? transaction : {};
  const marks = expandMarks(tx.k);
  if (marks !== undefined) v2tx.marks = marks;
  const out: JsonObject[] = [{ transaction: v2tx }];
  for (const me of Array.isArray(tx.me) ? tx.me : []) {
    const metricset = isRecord(me) ? expandMetricset(me, tx) : undefined;
    if (metricset !== undefined) out.push(metricset);
  }
  const spans: readonly unknown[] = Array.isArray(tx.y) ? tx.y : [];
  for (const span of spans) if (isRecord(span)) out.push(expandSpan(span, spans, tx));
  return out;
}
