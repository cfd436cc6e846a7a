import {
  type Attributes,
  type HistogramDataPoint,
  isKvList,
  type Metric,
  type OtlpValue,
  type ResourceItems,
} from '../../../queue/otlp/model';
import { internalMetricNames } from '../routing';
import { dataStreamName } from '../routing';
import { type DataStreamOverride, readDataStreamAttribute } from './data-stream';
import {
  baseDocument,
  type DocumentScope,
  microsOf,
  type OtlpTransformContext,
  type PositionedDocument,
  putTime,
  streamFor,
} from './documents';
import { LabelSet, stringOf, truncate } from './labels';
import { scopesOf } from './resource';

type Sample =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'histogram'; readonly values: number[]; readonly counts: number[] }
  | { readonly kind: 'summary'; readonly count: number; readonly sum: number };

interface Metricset {
  /** Position of its first data point (the `_id` suffix). */
  readonly position: string;
  readonly timeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly samples: Map<string, Sample>;
}

/** APM Server's histogramSample: bucket midpoints (half the first bound, the last bound for the overflow bucket). */
function histogramSample(p: HistogramDataPoint): Sample | undefined {
  if (p.explicitBounds.length === 0)
    return { kind: 'histogram', values: [p.count > 0 ? (p.sum ?? 0) / p.count : 0], counts: [p.count] };
  if (p.bucketCounts.length !== p.explicitBounds.length + 1) return undefined;
  const values: number[] = [];
  const counts: number[] = [];
  p.bucketCounts.forEach((count, i) => {
    if (count === 0) return;
    const bounds = p.explicitBounds;
    let value: number;
    if (i === 0) value = (bounds[0] ?? 0) > 0 ? (bounds[0] ?? 0) / 2 : (bounds[0] ?? 0);
    else if (i === p.bucketCounts.length - 1) value = bounds[i - 1] ?? 0;
    else value = (bounds[i - 1] ?? 0) + ((bounds[i] ?? 0) - (bounds[i - 1] ?? 0)) / 2;
    counts.push(count);
    values.push(value);
  });
  return { kind: 'histogram', values, counts };
}

function signature(time: bigint, attributes: Attributes): string {
  let s = `${time}`;
  for (const [k, v] of attributes)
    s += `\u0000${k}\u0000${JSON.stringify(v instanceof Uint8Array ? [...v] : valueKey(v))}`;
  return s;
}

function valueKey(v: OtlpValue): unknown {
  if (isKvList(v)) return [...v].map(([k, x]) => [k, valueKey(x)]);
  if (Array.isArray(v)) return v.map((x: OtlpValue) => valueKey(x));
  return v;
}

/** Data points grouped by timestamp and attributes into metricsets, as APM Server's metricsets.upsert. */
function group(metrics: readonly Metric[], next: () => number): Metricset[] {
  const sets = new Map<string, Metricset>();
  const add = (
    time: bigint,
    attributes: Attributes,
    name: string,
    sample: Sample | undefined,
    position: number,
  ): void => {
    if (sample === undefined) return;
    const key = signature(time, attributes);
    let set = sets.get(key);
    if (set === undefined) {
      set = { position: `m${position}`, timeUnixNano: time, attributes, samples: new Map() };
      sets.set(key, set);
    }
    set.samples.set(name, sample);
  };
  for (const metric of metrics) {
    const { data } = metric;
    switch (data.kind) {
      case 'gauge':
      case 'sum':
        for (const p of data.points)
          add(
            p.timeUnixNano,
            p.attributes,
            metric.name,
            Number.isFinite(p.value) ? { kind: 'number', value: p.value } : undefined,
            next(),
          );
        break;
      case 'histogram':
        for (const p of data.points) add(p.timeUnixNano, p.attributes, metric.name, histogramSample(p), next());
        break;
      case 'summary':
        for (const p of data.points)
          add(p.timeUnixNano, p.attributes, metric.name, { kind: 'summary', count: p.count, sum: p.sum }, next());
        break;
      case 'unsupported':
        break;
    }
  }
  return [...sets.values()];
}

const attributeFields: ReadonlyMap<string, readonly string[]> = new Map([
  ['system.process.cpu.start_time', ['system', 'process', 'cpu', 'start_time']],
  ['system.process.cmdline', ['system', 'process', 'cmdline']],
  ['system.process.state', ['system', 'process', 'state']],
  ['system.filesystem.mount_point', ['system', 'filesystem', 'mount_point']],
  ['event.dataset', ['event', 'dataset']],
  ['event.module', ['event', 'module']],
  ['user.name', ['user', 'name']],
]);

function setPath(doc: Record<string, unknown>, path: readonly string[], value: string): void {
  let node = doc;
  path.forEach((key, i) => {
    if (i === path.length - 1) {
      node[key] = value;
      return;
    }
    const child = node[key];
    const next: Record<string, unknown> =
      child !== null && typeof child === 'object' && !Array.isArray(child) ? { ...child } : {};
    node[key] = next;
    node = next;
  });
}

function metricsetDocument(set: Metricset, scope: DocumentScope, ctx: OtlpTransformContext): PositionedDocument {
  const labels = LabelSet.from(scope.resource.labels);
  const dataStream: DataStreamOverride = { ...scope.dataStream };
  const doc = baseDocument(ctx, scope, 'metric');
  doc.metricset = { name: 'app' };
  for (const [key, value] of set.attributes) {
    if (readDataStreamAttribute(key, value, dataStream)) continue;
    const path = attributeFields.get(key);
    const s = stringOf(value);
    if (path !== undefined && s !== undefined) setPath(doc, path, truncate(s));
    else labels.set(key, value);
  }
  putTime(doc, microsOf(set.timeUnixNano, ctx), false);
  const templates: Record<string, string> = {};
  let internal = true;
  for (const [name, sample] of set.samples) {
    if (!internalMetricNames.has(name)) internal = false;
    if (sample.kind === 'number') doc[name] = sample.value;
    else if (sample.kind === 'histogram') {
      doc[name] = { values: sample.values, counts: sample.counts };
      templates[name] = 'histogram';
    } else {
      doc[name] = { value_count: sample.count, sum: sample.sum };
      templates[name] = 'summary';
    }
  }
  labels.putOn(doc);
  const stream = streamFor(internal ? 'internal-metrics' : 'metrics', scope.resource.serviceName, dataStream, ctx);
  doc.data_stream = stream;
  const dynamicTemplates = Object.keys(templates).length > 0 ? templates : undefined;
  return {
    position: set.position,
    doc:
      dynamicTemplates === undefined
        ? { dataStream: dataStreamName(stream), source: doc }
        : { dataStream: dataStreamName(stream), source: doc, dynamicTemplates },
  };
}

/** Every document of a metrics request: one per metricset (data points of one scope sharing time and attributes). */
export function metricDocuments(
  resources: ReadonlyArray<ResourceItems<Metric>>,
  ctx: OtlpTransformContext,
): PositionedDocument[] {
  const out: PositionedDocument[] = [];
  let n = 0;
  const next = (): number => n++;
  for (const [scope, metrics] of scopesOf(resources))
    for (const set of group(metrics, next)) out.push(metricsetDocument(set, scope, ctx));
  return out;
}
