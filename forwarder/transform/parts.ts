import { parseHeaders } from './http';
import { bool, isRecord, type JsonObject, list, num, obj, orUndefined, put, str } from './json';

export function faasDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  put(out, 'id', str(from, 'id'));
  put(out, 'name', str(from, 'name'));
  put(out, 'version', str(from, 'version'));
  put(out, 'execution', str(from, 'execution'));
  put(out, 'coldstart', bool(from, 'coldstart'));
  const trigger = obj(from, 'trigger');
  const t: JsonObject = {};
  put(t, 'type', str(trigger, 'type'));
  put(t, 'request_id', str(trigger, 'request_id'));
  put(out, 'trigger', orUndefined(t));
  return orUndefined(out);
}

/** transaction.message / span.message from context.message. */
export function messageDoc(from: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'body', str(from, 'body'));
  const ageMs = num(obj(from, 'age'), 'ms');
  if (ageMs !== undefined) out.age = { ms: Math.trunc(ageMs) };
  const queueName = str(obj(from, 'queue'), 'name');
  if (queueName !== undefined) out.queue = { name: queueName };
  put(out, 'routing_key', str(from, 'routing_key'));
  put(out, 'headers', parseHeaders(from, 'headers'));
  return out;
}

export function linksDoc(from: JsonObject): JsonObject[] | undefined {
  const links = list(from, 'links');
  if (links === undefined) return undefined;
  return links
    .filter(isRecord)
    .map((link) => ({ trace: { id: str(link, 'trace_id') ?? '' }, span: { id: str(link, 'span_id') ?? '' } }));
}

/** event.outcome plus event.success_count (1 for success, 0 for failure), as the APM ingest pipeline adds it. */
export function eventDoc(outcome: string): JsonObject {
  if (outcome === 'success') return { outcome, success_count: 1 };
  if (outcome === 'failure') return { outcome, success_count: 0 };
  return { outcome };
}

/** representative_count: 1/sample_rate when positive, absent when 0 (unsampled), 1 when unknown. */
export function representativeCount(from: JsonObject): number | undefined {
  const rate = num(from, 'sample_rate');
  if (rate === undefined) return 1;
  return rate > 0 ? 1 / rate : undefined;
}
