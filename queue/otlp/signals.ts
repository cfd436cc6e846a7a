import type {
  HistogramDataPoint,
  LogRecord,
  Metric,
  MetricData,
  NumberDataPoint,
  ResourceItems,
  Span,
  SpanEvent,
  SpanLink,
  SummaryDataPoint,
} from './model';
import { bool, enumValue, id, list, nanos, number, optionalNumber, type Plain, record, text } from './plain';
import { anyValue, attributes, resource, scope } from './values';

/** The three export requests, read from their plain-object form (see plain.ts). */

function resourceItems<T>(
  value: unknown,
  keys: { readonly resources: string; readonly scopes: string; readonly items: string },
  item: (value: unknown, where: string) => T,
): Array<ResourceItems<T>> {
  const request = record(value, 'request');
  return list(request[keys.resources], keys.resources).map((r, i) => {
    const rw = `${keys.resources}[${i}]`;
    const rs = record(r, rw);
    const scopes = list(rs[keys.scopes], `${rw}.${keys.scopes}`).map((s, j) => {
      const sw = `${rw}.${keys.scopes}[${j}]`;
      const ss = record(s, sw);
      const items = list(ss[keys.items], `${sw}.${keys.items}`).map((x, k) => item(x, `${sw}.${keys.items}[${k}]`));
      return { scope: scope(ss.scope, `${sw}.scope`), items };
    });
    return { resource: resource(rs.resource, `${rw}.resource`), scopes };
  });
}

const spanKinds = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];
const statusCodes = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const temporalities = [
  'AGGREGATION_TEMPORALITY_UNSPECIFIED',
  'AGGREGATION_TEMPORALITY_DELTA',
  'AGGREGATION_TEMPORALITY_CUMULATIVE',
];

function spanEvent(value: unknown, where: string): SpanEvent {
  const e = record(value, where);
  return {
    timeUnixNano: nanos(e.timeUnixNano, `${where}.timeUnixNano`),
    name: text(e.name, `${where}.name`),
    attributes: attributes(e.attributes, `${where}.attributes`),
  };
}

function spanLink(value: unknown, where: string): SpanLink {
  const l = record(value, where);
  return {
    traceId: id(l.traceId, 16, `${where}.traceId`),
    spanId: id(l.spanId, 8, `${where}.spanId`),
    attributes: attributes(l.attributes, `${where}.attributes`),
  };
}

function span(value: unknown, where: string): Span {
  const s = record(value, where);
  const status = record(s.status, `${where}.status`);
  return {
    traceId: id(s.traceId, 16, `${where}.traceId`),
    spanId: id(s.spanId, 8, `${where}.spanId`),
    parentSpanId: id(s.parentSpanId, 8, `${where}.parentSpanId`),
    traceState: text(s.traceState, `${where}.traceState`),
    name: text(s.name, `${where}.name`),
    kind: enumValue(s.kind, spanKinds, `${where}.kind`),
    startTimeUnixNano: nanos(s.startTimeUnixNano, `${where}.startTimeUnixNano`),
    endTimeUnixNano: nanos(s.endTimeUnixNano, `${where}.endTimeUnixNano`),
    attributes: attributes(s.attributes, `${where}.attributes`),
    events: list(s.events, `${where}.events`).map((e, i) => spanEvent(e, `${where}.events[${i}]`)),
    links: list(s.links, `${where}.links`).map((l, i) => spanLink(l, `${where}.links[${i}]`)),
    status: {
      code: enumValue(status.code, statusCodes, `${where}.status.code`),
      message: text(status.message, `${where}.status.message`),
    },
  };
}

function numberPoint(value: unknown, where: string): NumberDataPoint {
  const p = record(value, where);
  const raw = p.asDouble ?? p.asInt;
  return {
    attributes: attributes(p.attributes, `${where}.attributes`),
    timeUnixNano: nanos(p.timeUnixNano, `${where}.timeUnixNano`),
    value: number(raw, `${where}.value`),
  };
}

function histogramPoint(value: unknown, where: string): HistogramDataPoint {
  const p = record(value, where);
  return {
    attributes: attributes(p.attributes, `${where}.attributes`),
    timeUnixNano: nanos(p.timeUnixNano, `${where}.timeUnixNano`),
    count: number(p.count, `${where}.count`),
    sum: optionalNumber(p.sum, `${where}.sum`),
    bucketCounts: list(p.bucketCounts, `${where}.bucketCounts`).map((c, i) => number(c, `${where}.bucketCounts[${i}]`)),
    explicitBounds: list(p.explicitBounds, `${where}.explicitBounds`).map((b, i) =>
      number(b, `${where}.explicitBounds[${i}]`),
    ),
  };
}

function summaryPoint(value: unknown, where: string): SummaryDataPoint {
  const p = record(value, where);
  const quantiles = list(p.quantileValues, `${where}.quantileValues`).map((q, i) => {
    const qv = record(q, `${where}.quantileValues[${i}]`);
    return {
      quantile: number(qv.quantile, `${where}.quantileValues[${i}].quantile`),
      value: number(qv.value, `${where}.quantileValues[${i}].value`),
    };
  });
  return {
    attributes: attributes(p.attributes, `${where}.attributes`),
    timeUnixNano: nanos(p.timeUnixNano, `${where}.timeUnixNano`),
    count: number(p.count, `${where}.count`),
    sum: number(p.sum, `${where}.sum`),
    quantiles,
  };
}

function points<T>(data: Plain, where: string, read: (value: unknown, where: string) => T): T[] {
  return list(data.dataPoints, `${where}.dataPoints`).map((p, i) => read(p, `${where}.dataPoints[${i}]`));
}

function metricData(m: Plain, where: string): MetricData {
  if (m.gauge !== undefined && m.gauge !== null)
    return { kind: 'gauge', points: points(record(m.gauge, `${where}.gauge`), `${where}.gauge`, numberPoint) };
  if (m.sum !== undefined && m.sum !== null) {
    const sum = record(m.sum, `${where}.sum`);
    return {
      kind: 'sum',
      points: points(sum, `${where}.sum`, numberPoint),
      monotonic: bool(sum.isMonotonic, `${where}.sum.isMonotonic`),
      temporality: enumValue(sum.aggregationTemporality, temporalities, `${where}.sum.aggregationTemporality`),
    };
  }
  if (m.histogram !== undefined && m.histogram !== null) {
    const histogram = record(m.histogram, `${where}.histogram`);
    return {
      kind: 'histogram',
      points: points(histogram, `${where}.histogram`, histogramPoint),
      temporality: enumValue(
        histogram.aggregationTemporality,
        temporalities,
        `${where}.histogram.aggregationTemporality`,
      ),
    };
  }
  if (m.summary !== undefined && m.summary !== null)
    return { kind: 'summary', points: points(record(m.summary, `${where}.summary`), `${where}.summary`, summaryPoint) };
  if (m.exponentialHistogram !== undefined && m.exponentialHistogram !== null) {
    const eh = record(m.exponentialHistogram, `${where}.exponentialHistogram`);
    return {
      kind: 'unsupported',
      type: 'exponential_histogram',
      points: list(eh.dataPoints, `${where}.exponentialHistogram.dataPoints`).length,
    };
  }
  return { kind: 'unsupported', type: 'empty', points: 0 };
}

function metric(value: unknown, where: string): Metric {
  const m = record(value, where);
  return {
    name: text(m.name, `${where}.name`),
    unit: text(m.unit, `${where}.unit`),
    description: text(m.description, `${where}.description`),
    data: metricData(m, where),
  };
}

function logRecord(value: unknown, where: string): LogRecord {
  const l = record(value, where);
  return {
    timeUnixNano: nanos(l.timeUnixNano, `${where}.timeUnixNano`),
    observedTimeUnixNano: nanos(l.observedTimeUnixNano, `${where}.observedTimeUnixNano`),
    severityNumber: Math.trunc(number(l.severityNumber, `${where}.severityNumber`)),
    severityText: text(l.severityText, `${where}.severityText`),
    body: anyValue(l.body, `${where}.body`),
    attributes: attributes(l.attributes, `${where}.attributes`),
    traceId: id(l.traceId, 16, `${where}.traceId`),
    spanId: id(l.spanId, 8, `${where}.spanId`),
    eventName: text(l.eventName, `${where}.eventName`),
  };
}

export function readTraces(value: unknown): Array<ResourceItems<Span>> {
  return resourceItems(value, { resources: 'resourceSpans', scopes: 'scopeSpans', items: 'spans' }, span);
}

export function readMetrics(value: unknown): Array<ResourceItems<Metric>> {
  return resourceItems(value, { resources: 'resourceMetrics', scopes: 'scopeMetrics', items: 'metrics' }, metric);
}

export function readLogs(value: unknown): Array<ResourceItems<LogRecord>> {
  return resourceItems(value, { resources: 'resourceLogs', scopes: 'scopeLogs', items: 'logRecords' }, logRecord);
}
