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
import { type ExceptionNode, groupingKey } from './grouping';
import { bool, isRecord, type JsonObject, list, nonEmptyObj, obj, put, str } from './json';
import { stacktraceDoc } from './stacktrace';
import { putRequestContext } from './transaction';
import { sanitizeKeys } from './values';

/** exception.code may be a number or a string; APM Server stores it as a string (integer part for floats). */
function exceptionCode(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(Math.trunc(value));
  return undefined;
}

function exceptionNode(from: JsonObject): ExceptionNode {
  const doc: JsonObject = {};
  put(doc, 'message', str(from, 'message'));
  put(doc, 'type', str(from, 'type'));
  put(doc, 'module', str(from, 'module'));
  put(doc, 'code', exceptionCode(from.code));
  put(doc, 'handled', bool(from, 'handled'));
  const attributes = nonEmptyObj(from, 'attributes');
  if (attributes !== undefined) doc.attributes = sanitizeKeys(attributes);
  put(doc, 'stacktrace', stacktraceDoc(from, 'stacktrace'));
  const causes = (list(from, 'cause') ?? []).filter(isRecord).map(exceptionNode);
  return { doc, causes };
}

/**
 * The exception tree flattened depth-first into error.exception[]; a cause that does not directly follow its
 * parent records the parent's index in `parent`, as APM Server writes it.
 */
function flattenExceptions(root: ExceptionNode): JsonObject[] {
  const out: JsonObject[] = [];
  const visit = (node: ExceptionNode, parentOffset: number): void => {
    const offset = out.length;
    out.push(offset > parentOffset + 1 ? { ...node.doc, parent: parentOffset } : node.doc);
    for (const cause of node.causes) visit(cause, offset);
  };
  visit(root, 0);
  return out;
}

function logDoc(from: JsonObject): JsonObject {
  const out: JsonObject = { level: str(from, 'level') ?? 'error' };
  put(out, 'message', str(from, 'message'));
  put(out, 'param_message', str(from, 'param_message'));
  put(out, 'logger_name', str(from, 'logger_name'));
  put(out, 'stacktrace', stacktraceDoc(from, 'stacktrace'));
  return out;
}

export function transformError(from: JsonObject, state: JobState): JsonObject {
  const draft = newDraft(state, 'error');
  const { doc } = draft;
  const context = obj(from, 'context');
  applyServiceContext(draft, state, context);
  applyUserContext(draft, context);
  putRequestContext(doc, context);
  applyTags(draft, nonEmptyObj(context, 'tags'));

  const error: JsonObject = {};
  put(error, 'id', str(from, 'id'));
  put(error, 'culprit', str(from, 'culprit'));
  const exceptionFrom = obj(from, 'exception');
  const exception = exceptionFrom === undefined ? undefined : exceptionNode(exceptionFrom);
  if (exception !== undefined) error.exception = flattenExceptions(exception);
  const logFrom = obj(from, 'log');
  const log = logFrom === undefined ? undefined : logDoc(logFrom);
  if (log !== undefined) error.log = log;
  error.grouping_key = groupingKey(exception, log);
  const message = str(log, 'message') ?? str(exception?.doc, 'message');
  // error.grouping_name is what Kibana shows as the group title; the APM ingest pipeline derives it the same way.
  put(error, 'grouping_name', message);
  const custom = nonEmptyObj(context, 'custom');
  if (custom !== undefined) error.custom = sanitizeKeys(custom);
  doc.error = error;
  put(doc, 'message', message);
  doc.event = { dataset: 'apm.error' };

  const transactionId = str(from, 'transaction_id');
  const tx = obj(from, 'transaction');
  if (transactionId !== undefined || tx !== undefined) {
    const transaction: JsonObject = {};
    put(transaction, 'id', transactionId);
    put(transaction, 'sampled', bool(tx, 'sampled'));
    put(transaction, 'name', str(tx, 'name'));
    put(transaction, 'type', str(tx, 'type'));
    doc.transaction = transaction;
  }
  if (transactionId !== undefined) doc.span = { id: transactionId };
  const traceId = str(from, 'trace_id');
  if (traceId !== undefined) doc.trace = { id: traceId };
  const parentId = str(from, 'parent_id');
  if (parentId !== undefined) doc.parent = { id: parentId };
  putTimestamp(doc, timestampUs(from, state), true);
  return finishDraft(draft);
}
