import type { ApmDocument } from '..';
import { type DataStream, dataStreamName, normalizeServiceName } from '../routing';
import type { DataStreamOverride } from './data-stream';
import type { LabelSet } from './labels';
import type { ResourceFields } from './resource';

/** The job-wide inputs of the OTLP transform. */
export interface OtlpTransformContext {
  /** The job's request id: with a document's position, its `_id` (and an error's id). */
  readonly requestId: string;
  /** observer and apm_sidecar: the same on every document of the job. */
  readonly shared: Record<string, unknown>;
  readonly namespace: string;
  readonly receivedAtUs: number;
}

/** One document of an OTLP request with its position there (the `_id` suffix, stable across redeliveries). */
export interface PositionedDocument {
  readonly position: string;
  readonly doc: ApmDocument;
}

export interface DocumentScope {
  readonly resource: ResourceFields;
  readonly framework: { name: string; version?: string } | undefined;
  /** resource + scope data_stream.* attributes. */
  readonly dataStream: DataStreamOverride;
}

/** A new document with the fields every document of the resource carries; `service` is copied so it can change. */
export function baseDocument(
  ctx: OtlpTransformContext,
  scope: DocumentScope,
  processorEvent: string | undefined,
): Record<string, unknown> {
  const doc: Record<string, unknown> = { ...ctx.shared };
  for (const key in scope.resource.fields) doc[key] = scope.resource.fields[key];
  const service: Record<string, unknown> = { ...scope.resource.fields.service };
  if (scope.framework !== undefined) service.framework = scope.framework;
  doc.service = service;
  if (processorEvent !== undefined) doc.processor = { event: processorEvent };
  return doc;
}

/** Nanoseconds since the epoch as whole microseconds; 0 (unset) becomes when the proxy received the request. */
export function microsOf(nanos: bigint, ctx: OtlpTransformContext): number {
  return nanos > 0n ? Number(nanos / 1000n) : ctx.receivedAtUs;
}

export function putTime(doc: Record<string, unknown>, us: number, withMicros: boolean): void {
  doc['@timestamp'] = new Date(Math.floor(us / 1000)).toISOString();
  if (withMicros) doc.timestamp = { us };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Sets a field of the document's own service object (baseDocument copied it). */
export function setServiceField(doc: Record<string, unknown>, key: string, value: unknown): void {
  if (isObject(doc.service)) doc.service[key] = value;
}

export function finish(doc: Record<string, unknown>, labels: LabelSet, stream: DataStream): ApmDocument {
  labels.putOn(doc);
  doc.data_stream = stream;
  return { dataStream: dataStreamName(stream), source: doc };
}

type Kind = 'traces' | 'errors' | 'logs' | 'metrics' | 'internal-metrics';

/** APM Server's routing, with the data_stream.* attributes' overrides (the most specific level wins). */
export function streamFor(
  kind: Kind,
  serviceName: string,
  override: DataStreamOverride,
  ctx: OtlpTransformContext,
): DataStream {
  const namespace = override.namespace ?? ctx.namespace;
  const service = normalizeServiceName(serviceName === '' ? 'unknown' : serviceName);
  switch (kind) {
    case 'traces':
      return { type: 'traces', dataset: override.dataset ?? 'apm', namespace };
    case 'errors':
      return { type: 'logs', dataset: override.dataset ?? 'apm.error', namespace };
    case 'logs':
      return { type: 'logs', dataset: override.dataset ?? `apm.app.${service}`, namespace };
    case 'metrics':
      return { type: 'metrics', dataset: override.dataset ?? `apm.app.${service}`, namespace };
    case 'internal-metrics':
      return { type: 'metrics', dataset: override.dataset ?? 'apm.internal', namespace };
  }
}
