import { isKvList, type LogRecord, type OtlpValue, type ResourceItems } from '../../../queue/otlp/model';
import { type DataStreamOverride, readDataStreamAttribute } from './data-stream';
import {
  baseDocument,
  type DocumentScope,
  finish,
  microsOf,
  type OtlpTransformContext,
  type PositionedDocument,
  putTime,
  streamFor,
} from './documents';
import { LabelSet } from './labels';
import { scopesOf } from './resource';
import { exceptionError, noException, readExceptionAttribute } from './span-events';

/** pdata's Value.AsString(): strings as they are, everything else as JSON. */
function asString(value: OtlpValue): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(toJson(value));
}

function toJson(value: OtlpValue): unknown {
  if (isKvList(value)) return Object.fromEntries([...value].map(([k, v]) => [k, toJson(v)]));
  if (Array.isArray(value)) return value.map((v: OtlpValue) => toJson(v));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}

/**
 * A log record, as APM Server's convertLogRecord: message from the body (a map body's entries also become labels),
 * log.level from the severity text, event.severity from its number; exception.* attributes make it an error
 * (still in the service's logs data stream, event.type error).
 */
function logDocument(
  record: LogRecord,
  scope: DocumentScope,
  ctx: OtlpTransformContext,
  key: string,
): ReturnType<typeof finish> {
  const labels = LabelSet.from(scope.resource.labels);
  const dataStream: DataStreamOverride = { ...scope.dataStream };
  const doc = baseDocument(ctx, scope, undefined);
  const time = record.timeUnixNano > 0n ? record.timeUnixNano : record.observedTimeUnixNano;
  putTime(doc, microsOf(time, ctx), false);
  const event: Record<string, unknown> = { severity: record.severityNumber };
  doc.log = { level: record.severityText };
  if (record.body !== null) {
    doc.message = asString(record.body);
    if (isKvList(record.body)) for (const [k, v] of record.body) labels.set(k, v);
  }
  if (record.traceId !== '') doc.trace = { id: record.traceId };
  if (record.spanId !== '') doc.span = { id: record.spanId };
  const exception = noException();
  for (const [k, v] of record.attributes) {
    if (readDataStreamAttribute(k, v, dataStream) || readExceptionAttribute(k, v, exception)) continue;
    if (k === 'session.id' && typeof v === 'string') doc.session = { id: v };
    else if (k === 'network.connection.type' && typeof v === 'string') doc.network = { connection: { type: v } };
    else labels.set(k, v);
  }
  if (exception.message !== '' || exception.type !== '') {
    doc.error = exceptionError(exception, key);
    event.kind = 'event';
    event.type = 'error';
  }
  doc.event = event;
  return finish(doc, labels, streamFor('logs', scope.resource.serviceName, dataStream, ctx));
}

/** Every document of a logs request, one per record; positions "l<n>". */
export function logDocuments(
  resources: ReadonlyArray<ResourceItems<LogRecord>>,
  ctx: OtlpTransformContext,
): PositionedDocument[] {
  const out: PositionedDocument[] = [];
  let n = 0;
  for (const [scope, records] of scopesOf(resources)) {
    for (const record of records) {
      const position = `l${n++}`;
      out.push({ position, doc: logDocument(record, scope, ctx, `${ctx.requestId}.${position}`) });
    }
  }
  return out;
}
