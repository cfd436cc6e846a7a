import { applyTags, finishDraft, type JobState, newDraft, putTimestamp } from './common';
import { isRecord, type JsonObject, obj, orUndefined, put } from './json';
import { faasDoc } from './parts';

/**
 * A log field given either flat ("log.level") or nested ({"log":{"level":..}}); nested wins, as in APM Server
 * (processNestedSource).
 */
function pick(from: JsonObject, path: string): unknown {
  const parts = path.split('.');
  let node: unknown = from;
  for (const part of parts) {
    if (!isRecord(node)) {
      node = undefined;
      break;
    }
    node = node[part];
  }
  return node !== undefined && node !== null && !isRecord(node) ? node : from[path];
}

function pickStr(from: JsonObject, path: string): string | undefined {
  const value = pick(from, path);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function pickNum(from: JsonObject, path: string): number | undefined {
  const value = pick(from, path);
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** `@timestamp` is microseconds since the epoch or an ISO-8601 string (the offset may lack its colon). */
function logTimestampUs(from: JsonObject, state: JobState): number {
  const value = from['@timestamp'];
  if (typeof value === 'number' && value > 0) return Math.trunc(value);
  if (typeof value === 'string') {
    const ms = Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
    if (Number.isFinite(ms)) return ms * 1000;
  }
  return state.receivedAtUs;
}

function logFields(from: JsonObject): JsonObject | undefined {
  const log: JsonObject = {};
  put(log, 'level', pickStr(from, 'log.level'));
  put(log, 'logger', pickStr(from, 'log.logger'));
  const file: JsonObject = {};
  put(file, 'name', pickStr(from, 'log.origin.file.name'));
  const line = pickNum(from, 'log.origin.file.line');
  if (line !== undefined && line > 0) file.line = Math.trunc(line);
  const fn = pickStr(from, 'log.origin.function');
  if (fn !== undefined || orUndefined(file) !== undefined) log.origin = { function: fn ?? '', file };
  return orUndefined(log);
}

function putService(doc: JsonObject, from: JsonObject, base: JsonObject | undefined): void {
  const name = pickStr(from, 'service.name');
  const version = pickStr(from, 'service.version');
  const environment = pickStr(from, 'service.environment');
  const nodeName = pickStr(from, 'service.node.name');
  if (name === undefined && version === undefined && environment === undefined && nodeName === undefined) return;
  const service: JsonObject = { ...(base ?? {}) };
  put(service, 'name', name);
  put(service, 'version', version);
  put(service, 'environment', environment);
  if (nodeName !== undefined) service.node = { name: nodeName };
  doc.service = service;
}

export function transformLog(from: JsonObject, state: JobState): JsonObject {
  const draft = newDraft(state, 'log');
  const { doc } = draft;
  putTimestamp(doc, logTimestampUs(from, state), false);
  put(doc, 'message', pickStr(from, 'message'));
  put(doc, 'log', logFields(from));
  const traceId = pickStr(from, 'trace.id');
  if (traceId !== undefined) doc.trace = { id: traceId };
  const transactionId = pickStr(from, 'transaction.id');
  if (transactionId !== undefined) {
    doc.transaction = { id: transactionId };
    doc.span = { id: transactionId };
  }
  const spanId = pickStr(from, 'span.id');
  if (spanId !== undefined) doc.span = { id: spanId };
  const error: JsonObject = {};
  put(error, 'type', pickStr(from, 'error.type'));
  put(error, 'message', pickStr(from, 'error.message'));
  put(error, 'stack_trace', pickStr(from, 'error.stack_trace'));
  const hasError = orUndefined(error) !== undefined;
  if (hasError) doc.error = error;
  putService(doc, from, state.meta.service);
  const threadName = pickStr(from, 'process.thread.name');
  if (threadName !== undefined) doc.process = { ...(obj(doc, 'process') ?? {}), thread: { name: threadName } };
  const event: JsonObject = {};
  put(event, 'dataset', pickStr(from, 'event.dataset'));
  if (!hasError) event.kind = 'event';
  put(doc, 'event', orUndefined(event));
  put(doc, 'faas', faasDoc(obj(from, 'faas')));
  applyTags(draft, obj(from, 'labels'));
  return finishDraft(draft);
}
