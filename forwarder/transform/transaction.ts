import {
  applyServiceContext,
  applyTags,
  applyUserContext,
  finishDraft,
  type JobState,
  newDraft,
  putTimestamp,
  timestampUs,
} from './common';
import {
  parseHeaders,
  parseUrl,
  putClientAndSource,
  requestDoc,
  requestUrlDoc,
  responseDoc,
  userAgentOriginal,
} from './http';
import { bool, isRecord, type JsonObject, nonEmptyObj, num, obj, orUndefined, put, str } from './json';
import { sanitizeLabelKey } from './labels';
import { defaultTransactionKind, readOtel } from './otel';
import { eventDoc, faasDoc, linksDoc, messageDoc, representativeCount } from './parts';
import { msToUs, sanitizeKeys } from './values';

/** The http.*, url.*, user_agent, client and source fields of a transaction or error, from its context. */
export function putRequestContext(doc: JsonObject, context: JsonObject | undefined): void {
  const request = obj(context, 'request');
  const headers = parseHeaders(request, 'headers');
  const userAgent = userAgentOriginal(headers);
  if (userAgent !== undefined) doc.user_agent = { original: userAgent };
  putClientAndSource(doc, request, headers);
  const http: JsonObject = {};
  if (request !== undefined) {
    http.request = requestDoc(request, headers);
    put(http, 'version', str(request, 'http_version'));
    const url = obj(request, 'url');
    if (url !== undefined) put(doc, 'url', requestUrlDoc(url));
  }
  const response = obj(context, 'response');
  if (response !== undefined) http.response = responseDoc(response);
  const page = obj(context, 'page');
  const pageUrl = str(page, 'url');
  if (pageUrl !== undefined && obj(request, 'url') === undefined) doc.url = parseUrl(pageUrl);
  const referer = str(page, 'referer');
  if (referer !== undefined) {
    const req = obj(http, 'request') ?? {};
    if (req.referrer === undefined) req.referrer = referer;
    http.request = req;
  }
  put(doc, 'http', orUndefined(http));
}

function marksDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  for (const name in from) {
    const mark = from[name];
    if (!isRecord(mark)) continue;
    const measures: JsonObject = {};
    for (const key in mark) if (typeof mark[key] === 'number') measures[sanitizeLabelKey(key)] = mark[key];
    if (orUndefined(measures) !== undefined) out[sanitizeLabelKey(name)] = measures;
  }
  return orUndefined(out);
}

function experienceDoc(from: JsonObject | undefined): JsonObject | undefined {
  if (from === undefined) return undefined;
  const out: JsonObject = {};
  for (const key of ['cls', 'fid', 'tbt']) {
    const value = num(from, key);
    if (value !== undefined && value >= 0) out[key] = value;
  }
  const longtask = obj(from, 'longtask');
  if (longtask !== undefined)
    out.longtask = {
      count: Math.trunc(num(longtask, 'count') ?? 0),
      sum: num(longtask, 'sum') ?? 0,
      max: num(longtask, 'max') ?? 0,
    };
  return out;
}

function spanCountDoc(from: JsonObject | undefined): JsonObject | undefined {
  const out: JsonObject = {};
  put(out, 'started', num(from, 'started'));
  put(out, 'dropped', num(from, 'dropped'));
  return orUndefined(out);
}

function outcomeOf(tx: JsonObject, context: JsonObject | undefined): string {
  const outcome = str(tx, 'outcome');
  if (outcome !== undefined) return outcome;
  const status = num(obj(context, 'response'), 'status_code');
  if (status === undefined) return 'unknown';
  return status >= 500 ? 'failure' : 'success';
}

export function transformTransaction(tx: JsonObject, state: JobState): JsonObject {
  const draft = newDraft(state, 'transaction');
  const { doc } = draft;
  const context = obj(tx, 'context');
  applyServiceContext(draft, state, context);
  applyUserContext(draft, context);
  putRequestContext(doc, context);
  put(doc, 'faas', faasDoc(obj(tx, 'faas')));
  const cloudOrigin = obj(obj(context, 'cloud'), 'origin');
  if (cloudOrigin !== undefined) {
    const origin: JsonObject = {};
    put(origin, 'provider', str(cloudOrigin, 'provider'));
    put(origin, 'region', str(cloudOrigin, 'region'));
    const accountId = str(obj(cloudOrigin, 'account'), 'id');
    if (accountId !== undefined) origin.account = { id: accountId };
    const serviceName = str(obj(cloudOrigin, 'service'), 'name');
    if (serviceName !== undefined) origin.service = { name: serviceName };
    doc.cloud = { ...(state.meta.cloud ?? {}), origin };
  }
  applyTags(draft, nonEmptyObj(context, 'tags'));

  const type = str(tx, 'type') ?? 'unknown';
  const id = str(tx, 'id');
  const transaction: JsonObject = { type };
  put(transaction, 'id', id);
  put(transaction, 'name', str(tx, 'name'));
  put(transaction, 'result', str(tx, 'result'));
  transaction.sampled = bool(tx, 'sampled') ?? true;
  put(transaction, 'representative_count', representativeCount(tx));
  const duration = num(tx, 'duration');
  if (duration !== undefined) transaction.duration = { us: msToUs(duration) };
  put(transaction, 'span_count', spanCountDoc(obj(tx, 'span_count')));
  put(transaction, 'marks', marksDoc(obj(tx, 'marks')));
  put(transaction, 'experience', experienceDoc(obj(tx, 'experience')));
  const custom = nonEmptyObj(context, 'custom');
  if (custom !== undefined) transaction.custom = sanitizeKeys(custom);
  const message = obj(context, 'message');
  if (message !== undefined) put(transaction, 'message', orUndefined(messageDoc(message)));
  doc.transaction = transaction;

  const span: JsonObject = {};
  put(span, 'id', id);
  put(span, 'links', linksDoc(tx));
  let outcome = outcomeOf(tx, context);
  const otel = readOtel(tx, draft.labels);
  if (otel !== undefined) {
    draft.labels = otel.labels;
    span.kind = otel.kind ?? defaultTransactionKind(type);
    put(transaction, 'profiler_stack_trace_ids', otel.profilerStackTraceIds);
    if (otel.queueName !== undefined) transaction.message = { queue: { name: otel.queueName } };
    // APM Server's OTel translation: an unset span status leaves the outcome unknown, which then becomes success.
    if (outcome === 'unknown') {
      outcome = 'success';
      if (transaction.result === undefined) transaction.result = 'Success';
    }
  }
  put(doc, 'span', orUndefined(span));
  doc.event = eventDoc(outcome);

  const sessionId = str(obj(tx, 'session'), 'id');
  if (sessionId !== undefined)
    doc.session = { id: sessionId, sequence: Math.trunc(num(obj(tx, 'session'), 'sequence') ?? 0) };
  const traceId = str(tx, 'trace_id');
  if (traceId !== undefined) doc.trace = { id: traceId };
  const parentId = str(tx, 'parent_id');
  if (parentId !== undefined) doc.parent = { id: parentId };
  putTimestamp(doc, timestampUs(tx, state), true);
  return finishDraft(draft);
}
