import type { ResourceItems, Span, SpanLink } from '../../../queue/otlp/model';
import { SpanKind } from '../../../queue/otlp/model';
import { eventDoc } from '../parts';
import {
  baseDocument,
  type DocumentScope,
  finish,
  microsOf,
  type OtlpTransformContext,
  type PositionedDocument,
  putTime,
  setServiceField,
  streamFor,
} from './documents';
import { LabelSet } from './labels';
import { scopesOf } from './resource';
import { translateSpan } from './span-attributes';
import { spanEventDocument } from './span-events';
import { translateTransaction } from './transaction-attributes';

/** A span is a transaction when it is a root or its kind is SERVER or CONSUMER (APM Server's rule). */
function isTransaction(span: Span): boolean {
  return span.parentSpanId === '' || span.kind === SpanKind.server || span.kind === SpanKind.consumer;
}

/** tracestate `es=s:<probability>`: the representative count is its inverse (1 when absent). */
function representativeCount(traceState: string): number {
  for (const member of traceState.split(',')) {
    const [key, value] = member.trim().split('=');
    if (key !== 'es' || value === undefined) continue;
    for (const part of value.split(';')) {
      const [k, v] = part.split(':');
      const p = Number(v);
      if (k === 's' && v !== undefined && Number.isFinite(p) && p >= 0 && p <= 1) return p === 0 ? 0 : 1 / p;
    }
  }
  return 1;
}

function linkFields(links: readonly SpanLink[]): { links?: unknown[]; childIds?: string[] } {
  if (links.length === 0) return {};
  const out: unknown[] = [];
  const children: string[] = [];
  for (const link of links) {
    if (link.attributes.get('elastic.is_child') === true || link.attributes.get('is_child') === true)
      children.push(link.spanId);
    else out.push({ span: { id: link.spanId }, trace: { id: link.traceId } });
  }
  return children.length > 0 ? { links: out, childIds: children } : { links: out };
}

function durationUs(span: Span): number {
  return span.endTimeUnixNano > span.startTimeUnixNano
    ? Number((span.endTimeUnixNano - span.startTimeUnixNano) / 1000n)
    : 0;
}

function spanDocuments(
  span: Span,
  scope: DocumentScope,
  ctx: OtlpTransformContext,
  position: string,
): PositionedDocument[] {
  const labels = LabelSet.from(scope.resource.labels);
  const dataStream = { ...scope.dataStream };
  const asTransaction = isTransaction(span);
  const doc = baseDocument(ctx, scope, asTransaction ? 'transaction' : 'span');
  const { links, childIds } = linkFields(span.links);
  const count = representativeCount(span.traceState);
  let transactionType: string | undefined;
  let outcome: string;
  if (asTransaction) {
    const hostName = scope.resource.fields.host?.hostname;
    const t = translateTransaction(
      span.attributes,
      span.status,
      labels,
      dataStream,
      typeof hostName === 'string' ? hostName : undefined,
    );
    const { serviceVersion, ...fields } = t.fields;
    Object.assign(doc, fields);
    if (typeof serviceVersion === 'string') setServiceField(doc, 'version', serviceVersion);
    transactionType = t.type;
    outcome = t.outcome;
    const transaction: Record<string, unknown> = {
      id: span.spanId,
      name: span.name,
      type: t.type,
      result: t.result,
      sampled: true,
      representative_count: count,
      duration: { us: durationUs(span) },
    };
    if (t.queueName !== undefined) transaction.message = { queue: { name: t.queueName } };
    if (t.profilerStackTraceIds !== undefined) transaction.profiler_stack_trace_ids = t.profilerStackTraceIds;
    doc.transaction = transaction;
    doc.span = links === undefined ? { id: span.spanId } : { id: span.spanId, links };
  } else {
    const s = translateSpan(span.kind, span.attributes, span.status, labels, dataStream);
    const { serviceTarget, ...fields } = s.fields;
    Object.assign(doc, fields);
    if (serviceTarget !== undefined) setServiceField(doc, 'target', serviceTarget);
    outcome = s.outcome;
    doc.span = {
      id: span.spanId,
      name: span.name,
      ...s.span,
      representative_count: count,
      duration: { us: durationUs(span) },
      ...(links === undefined ? {} : { links }),
    };
  }
  if (childIds !== undefined) doc.child = { id: childIds };
  doc.event = eventDoc(outcome);
  if (span.traceId !== '') doc.trace = { id: span.traceId };
  if (span.parentSpanId !== '') doc.parent = { id: span.parentSpanId };
  putTime(doc, microsOf(span.startTimeUnixNano, ctx), true);
  const out: PositionedDocument[] = [
    { position, doc: finish(doc, labels, streamFor('traces', scope.resource.serviceName, dataStream, ctx)) },
  ];
  const parent = {
    traceId: span.traceId,
    spanId: span.spanId,
    isTransaction: asTransaction,
    transactionType,
    http: doc.http,
    url: doc.url,
    dataStream: { ...dataStream },
  };
  span.events.forEach((event, i) => {
    const eventPosition = `${position}.e${i}`;
    out.push({
      position: eventPosition,
      doc: spanEventDocument(event, parent, scope, ctx, `${ctx.requestId}.${eventPosition}`),
    });
  });
  return out;
}

/** Every document of a traces request: per span its transaction or span, then its events. Positions are "s<n>[.e<m>]". */
export function traceDocuments(
  resources: ReadonlyArray<ResourceItems<Span>>,
  ctx: OtlpTransformContext,
): PositionedDocument[] {
  const out: PositionedDocument[] = [];
  let n = 0;
  for (const [scope, spans] of scopesOf(resources))
    for (const span of spans) out.push(...spanDocuments(span, scope, ctx, `s${n++}`));
  return out;
}
