import {
  applyServiceContext,
  applyTags,
  finishDraft,
  type JobState,
  newDraft,
  putTimestamp,
  targetDoc,
  timestampUs,
} from './common';
import { parseHeaders } from './http';
import { bool, type JsonObject, list, nonEmptyObj, num, obj, orUndefined, put, str } from './json';
import { canonicalIp } from './net';
import { defaultSpanKind, readOtel } from './otel';
import { eventDoc, linksDoc, messageDoc, representativeCount } from './parts';
import { stacktraceDoc } from './stacktrace';
import { msToUs } from './values';

const serviceTargetPattern = /^([a-z0-9]+)(?:\/(\w+))?$/;

/** span.type/subtype/action; a dotted type ("db.mysql.query") is split when subtype and action are absent. */
function putTypes(span: JsonObject, from: JsonObject): void {
  const type = str(from, 'type') ?? '';
  const subtype = str(from, 'subtype');
  const action = str(from, 'action');
  if (subtype === undefined && action === undefined) {
    const first = type.indexOf('.');
    if (first < 0) span.type = type;
    else {
      span.type = type.slice(0, first);
      const rest = type.slice(first + 1);
      const second = rest.indexOf('.');
      put(span, 'subtype', (second < 0 ? rest : rest.slice(0, second)) || undefined);
      if (second >= 0) put(span, 'action', rest.slice(second + 1) || undefined);
    }
  } else {
    span.type = type;
    put(span, 'subtype', subtype);
    put(span, 'action', action);
  }
  if (span.type === '') span.type = 'unknown';
}

function dbDoc(from: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'instance', str(from, 'instance'));
  put(out, 'statement', str(from, 'statement'));
  put(out, 'type', str(from, 'type'));
  put(out, 'link', str(from, 'link'));
  put(out, 'rows_affected', num(from, 'rows_affected'));
  const user = str(from, 'user');
  if (user !== undefined) out.user = { name: user };
  return out;
}

function compositeDoc(from: JsonObject): JsonObject {
  const strategy = str(from, 'compression_strategy');
  return {
    compression_strategy: strategy === 'exact_match' || strategy === 'same_kind' ? strategy : '',
    count: Math.trunc(num(from, 'count') ?? 0),
    sum: { us: msToUs(num(from, 'sum') ?? 0) },
  };
}

/** http.* of a span from context.http (method, request id, response sizes, status, url). */
function putSpanHttp(doc: JsonObject, from: JsonObject): void {
  const request: JsonObject = {};
  put(request, 'method', str(from, 'method'));
  const req = obj(from, 'request');
  put(request, 'id', str(req, 'id'));
  if (req?.body !== undefined && req.body !== null) request.body = { original: req.body };
  const response: JsonObject = {};
  const res = obj(from, 'response');
  if (res !== undefined) {
    put(response, 'decoded_body_size', num(res, 'decoded_body_size'));
    put(response, 'encoded_body_size', num(res, 'encoded_body_size'));
    put(response, 'transfer_size', num(res, 'transfer_size'));
    put(response, 'status_code', num(res, 'status_code'));
    put(response, 'headers', parseHeaders(res, 'headers'));
  }
  put(response, 'status_code', num(from, 'status_code'));
  const http: JsonObject = {};
  put(http, 'request', orUndefined(request));
  put(http, 'response', orUndefined(response));
  put(doc, 'http', orUndefined(http));
  const url = str(from, 'url');
  if (url !== undefined) doc.url = { original: url };
}

function putDestination(doc: JsonObject, span: JsonObject, context: JsonObject | undefined): void {
  const destination = obj(context, 'destination');
  const dest: JsonObject = {};
  const address = str(destination, 'address');
  if (address !== undefined) {
    dest.address = address;
    put(dest, 'ip', canonicalIp(address));
  }
  put(dest, 'port', num(destination, 'port'));
  put(doc, 'destination', orUndefined(dest));
  const service = obj(destination, 'service');
  if (service !== undefined) {
    const s: JsonObject = {};
    put(s, 'type', str(service, 'type'));
    put(s, 'name', str(service, 'name'));
    put(s, 'resource', str(service, 'resource'));
    span.destination = { service: s };
  }
  const resource = str(service, 'resource');
  if (str(obj(obj(context, 'service'), 'target'), 'type') === undefined && resource !== undefined) {
    const match = serviceTargetPattern.exec(resource);
    const target = match === null ? targetDoc(undefined, resource) : targetDoc(match[1], match[2] || undefined);
    doc.service = withField(obj(doc, 'service'), 'target', target);
  }
}

/** A copy of `base` with one field set (the job's service object is shared by its documents: never mutated). */
function withField(base: JsonObject | undefined, key: string, value: unknown): JsonObject {
  // A for-in copy: object spread of this shared object cost several times more per span.
  const out: JsonObject = {};
  for (const name in base) out[name] = base[name];
  out[key] = value;
  return out;
}

function outcomeOf(from: JsonObject, context: JsonObject | undefined): string {
  const outcome = str(from, 'outcome');
  if (outcome !== undefined) return outcome;
  const status = num(obj(context, 'http'), 'status_code');
  if (status === undefined) return 'unknown';
  return status >= 400 ? 'failure' : 'success';
}

export function transformSpan(from: JsonObject, state: JobState): JsonObject {
  const draft = newDraft(state, 'span');
  const { doc } = draft;
  const context = obj(from, 'context');
  const span: JsonObject = {};
  putTypes(span, from);
  put(span, 'id', str(from, 'id'));
  put(span, 'name', str(from, 'name'));
  put(span, 'sync', bool(from, 'sync'));
  put(span, 'representative_count', representativeCount(from));
  const duration = num(from, 'duration');
  if (duration !== undefined) span.duration = { us: msToUs(duration) };
  const composite = obj(from, 'composite');
  if (composite !== undefined) span.composite = compositeDoc(composite);
  const db = obj(context, 'db');
  if (db !== undefined) span.db = dbDoc(db);
  const message = obj(context, 'message');
  if (message !== undefined) put(span, 'message', orUndefined(messageDoc(message)));
  put(span, 'stacktrace', stacktraceDoc(from, 'stacktrace'));
  put(span, 'links', linksDoc(from));
  const childIds = list(from, 'child_ids');
  if (childIds !== undefined) doc.child = { id: childIds.filter((v): v is string => typeof v === 'string') };
  const http = obj(context, 'http');
  if (http !== undefined) putSpanHttp(doc, http);
  applyServiceContext(draft, state, context);
  putDestination(doc, span, context);
  applyTags(draft, nonEmptyObj(context, 'tags'));
  const otel = readOtel(from, draft.labels);
  if (otel !== undefined) {
    draft.labels = otel.labels;
    span.kind = otel.kind ?? defaultSpanKind(typeof span.type === 'string' ? span.type : '');
  }
  doc.span = span;
  doc.event = eventDoc(outcomeOf(from, context));
  const traceId = str(from, 'trace_id');
  if (traceId !== undefined) doc.trace = { id: traceId };
  const parentId = str(from, 'parent_id');
  if (parentId !== undefined) doc.parent = { id: parentId };
  const transactionId = str(from, 'transaction_id');
  if (transactionId !== undefined) doc.transaction = { id: transactionId };
  putTimestamp(doc, spanTimestampUs(from, state), true);
  return finishDraft(draft);
}

/** RUM spans carry `start` (ms after the transaction) instead of a timestamp: offset the receive time by it. */
function spanTimestampUs(from: JsonObject, state: JobState): number {
  const ts = num(from, 'timestamp');
  if (ts !== undefined && ts > 0) return timestampUs(from, state);
  const start = num(from, 'start');
  return start === undefined ? state.receivedAtUs : state.receivedAtUs + Math.trunc(start * 1000);
}
