import { createHash } from 'node:crypto';

import type { SpanEvent } from '../../../queue/otlp/model';
import type { ApmDocument } from '..';
import { groupingKey } from '../grouping';
import { type DataStreamOverride, readDataStreamAttribute } from './data-stream';
import {
  baseDocument,
  type DocumentScope,
  finish,
  microsOf,
  type OtlpTransformContext,
  putTime,
  streamFor,
} from './documents';
import { LabelSet } from './labels';

/** The parent span or transaction as its events need it. */
export interface EventParent {
  readonly traceId: string;
  readonly spanId: string;
  readonly isTransaction: boolean;
  readonly transactionType: string | undefined;
  readonly http: unknown;
  readonly url: unknown;
  readonly dataStream: DataStreamOverride;
}

/** APM Server gives an error a random id; ours derives from the document id, so a redelivery writes the same error. */
function errorId(documentKey: string): string {
  return createHash('sha256').update(documentKey).digest('hex').slice(0, 32);
}

/** OpenTelemetry's exception.* attributes of a log record or span event, none read yet. */
export const noException = (): { message: string; type: string; stacktrace: string; escaped: boolean } => ({
  message: '',
  type: '',
  stacktrace: '',
  escaped: false,
});

type ExceptionAttributes = ReturnType<typeof noException>;

/** Takes one exception.* attribute of the right type into `into`; false for any other (a label). */
export function readExceptionAttribute(key: string, value: unknown, into: ExceptionAttributes): boolean {
  if (key === 'exception.message' && typeof value === 'string') into.message = value;
  else if (key === 'exception.type' && typeof value === 'string') into.type = value;
  else if (key === 'exception.stacktrace' && typeof value === 'string') into.stacktrace = value;
  else if (key === 'exception.escaped' && typeof value === 'boolean') into.escaped = value;
  else return false;
  return true;
}

/** A document's `error` for an exception, as APM Server writes it: "[EMPTY]" without a message, handled unless escaped. */
export function exceptionError(e: ExceptionAttributes, documentKey: string): Record<string, unknown> {
  const exception: Record<string, unknown> = { message: e.message === '' ? '[EMPTY]' : e.message, handled: !e.escaped };
  if (e.type !== '') exception.type = e.type;
  const error: Record<string, unknown> = { id: errorId(documentKey), exception: [exception] };
  if (e.stacktrace !== '') error.stack_trace = e.stacktrace;
  error.grouping_key = groupingKey({ doc: exception, causes: [] }, undefined);
  return error;
}

function putParent(doc: Record<string, unknown>, parent: EventParent, asError: boolean): void {
  if (parent.traceId !== '') doc.trace = { id: parent.traceId };
  if (parent.isTransaction) {
    doc.transaction = asError
      ? { id: parent.spanId, sampled: true, type: parent.transactionType }
      : { id: parent.spanId };
  }
  doc.span = { id: parent.spanId };
  if (asError) {
    doc.parent = { id: parent.spanId };
    if (parent.http !== undefined) doc.http = parent.http;
    if (parent.url !== undefined) doc.url = parent.url;
  }
}

/**
 * A span event, as APM Server's convertSpanEvent: an "exception" event with exception.type or .message becomes an
 * error (logs-apm.error); any other event a log event (logs-apm.app.<service>) whose message is the event name.
 * Only the resource's labels and the event's own attributes become its labels, not the span's.
 */
export function spanEventDocument(
  event: SpanEvent,
  parent: EventParent,
  scope: DocumentScope,
  ctx: OtlpTransformContext,
  documentKey: string,
): ApmDocument {
  const labels = LabelSet.from(scope.resource.labels);
  const dataStream: DataStreamOverride = { ...parent.dataStream };
  const isException =
    event.name === 'exception' &&
    (typeof event.attributes.get('exception.message') === 'string' ||
      typeof event.attributes.get('exception.type') === 'string');
  const us = microsOf(event.timeUnixNano, ctx);
  if (isException) {
    const doc = baseDocument(ctx, scope, 'error');
    const exception = noException();
    for (const [key, value] of event.attributes) {
      if (readDataStreamAttribute(key, value, dataStream) || readExceptionAttribute(key, value, exception)) continue;
      labels.set(key, value);
    }
    const error = exceptionError(exception, documentKey);
    const message = exception.message === '' ? '[EMPTY]' : exception.message;
    error.grouping_name = message;
    doc.error = error;
    doc.message = message;
    putParent(doc, parent, true);
    putTime(doc, us, true);
    return finish(doc, labels, streamFor('errors', scope.resource.serviceName, dataStream, ctx));
  }
  const doc = baseDocument(ctx, scope, undefined);
  for (const [key, value] of event.attributes) {
    if (!readDataStreamAttribute(key, value, dataStream)) labels.set(key, value);
  }
  doc.event = { kind: 'event' };
  doc.message = event.name;
  putParent(doc, parent, false);
  putTime(doc, us, false);
  return finish(doc, labels, streamFor('logs', scope.resource.serviceName, dataStream, ctx));
}
