import { applyTags, finishDraft, type JobState, newDraft, putTimestamp, serviceName, timestampUs } from './common';
import { isRecord, type JsonObject, num, obj, put, str } from './json';
import { faasDoc } from './parts';
import { type DataStream, internalMetricNames, metricsStream } from './routing';

export interface MetricsetOutcome {
  readonly doc: JsonObject | undefined;
  readonly dataStream: DataStream;
  /** Bulk `dynamic_templates` for histogram samples (APM Server maps them with the `histogram` template). */
  readonly dynamicTemplates: Record<string, string> | undefined;
}

function numbers(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.length > 0 ? value.filter((v): v is number => typeof v === 'number') : undefined;
}

/**
 * Breakdown metricsets (with transaction.*) keep only the span self-time samples, as APM Server does; the document
 * is dropped when none is present.
 */
function putBreakdown(doc: JsonObject, samples: JsonObject, span: JsonObject | undefined): boolean {
  if (span === undefined) return false;
  const count = num(obj(samples, 'span.self_time.count'), 'value');
  const sumUs = num(obj(samples, 'span.self_time.sum.us'), 'value');
  if (count === undefined && sumUs === undefined) return false;
  // APM Server stores the sum as nanoseconds, then writes whole microseconds.
  span.self_time = { count: Math.trunc(count ?? 0), sum: { us: Math.trunc(Math.trunc((sumUs ?? 0) * 1000) / 1000) } };
  doc.metricset = { name: 'span_breakdown' };
  return true;
}

/** Application samples become top-level fields named by the sample, as the APM pipelines index them. */
function putSamples(
  doc: JsonObject,
  samples: JsonObject,
): { internal: boolean; templates: Record<string, string> | undefined } {
  let internal = true;
  let templates: Record<string, string> | undefined;
  for (const name in samples) {
    const sample = samples[name];
    if (!isRecord(sample)) continue;
    if (!internalMetricNames.has(name)) internal = false;
    const values = numbers(sample.values);
    const counts = numbers(sample.counts);
    if (values !== undefined || counts !== undefined || str(sample, 'type') === 'histogram') {
      doc[name] = { values: values ?? [], counts: (counts ?? []).map(Math.trunc) };
      templates ??= {};
      templates[name] = 'histogram';
    } else {
      doc[name] = num(sample, 'value') ?? 0;
    }
  }
  return { internal, templates };
}

export function transformMetricset(from: JsonObject, state: JobState): MetricsetOutcome {
  const draft = newDraft(state, 'metric');
  const { doc } = draft;
  doc.metricset = { name: 'app' };
  const samples = obj(from, 'samples') ?? {};
  applyTags(draft, obj(from, 'tags'));
  const spanFrom = obj(from, 'span');
  let span: JsonObject | undefined;
  if (spanFrom !== undefined) {
    span = {};
    put(span, 'type', str(spanFrom, 'type'));
    put(span, 'subtype', str(spanFrom, 'subtype'));
    doc.span = span;
  }
  const txFrom = obj(from, 'transaction');
  const serviceFrom = obj(from, 'service');
  const nameOverride = str(serviceFrom, 'name');
  if (nameOverride !== undefined) {
    const service: JsonObject = { ...(state.meta.service ?? {}), name: nameOverride };
    const version = str(serviceFrom, 'version');
    if (version === undefined) delete service.version;
    else service.version = version;
    doc.service = service;
  }
  put(doc, 'faas', faasDoc(obj(from, 'faas')));
  putTimestamp(doc, timestampUs(from, state), false);
  let dynamicTemplates: Record<string, string> | undefined;
  let internal: boolean;
  if (txFrom !== undefined) {
    const transaction: JsonObject = {};
    put(transaction, 'name', str(txFrom, 'name'));
    put(transaction, 'type', str(txFrom, 'type'));
    doc.transaction = transaction;
    internal = true;
    if (!putBreakdown(doc, samples, span))
      return { doc: undefined, dataStream: metricsStream(true, '', state.namespace), dynamicTemplates };
  } else {
    const result = putSamples(doc, samples);
    internal = result.internal || span !== undefined;
    dynamicTemplates = result.templates;
  }
  const dataStream = metricsStream(internal, serviceName(doc), state.namespace);
  return { doc: finishDraft(draft), dataStream, dynamicTemplates };
}
