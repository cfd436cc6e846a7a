/**
 * The OTLP export requests as both sides of the queue read them: one typed shape for protobuf and OTLP/JSON
 * bodies (queue/otlp/decode.ts builds it). Ids are lower-case hex ('' when absent), timestamps nanoseconds since
 * the epoch as bigint (a double cannot hold them), 64-bit integers as numbers (as APM Server's float64 labels).
 */

export type OtlpSignal = 'traces' | 'metrics' | 'logs';
export type OtlpFormat = 'protobuf' | 'json';

/** An AnyValue: a kvlist is a Map, bytes a Uint8Array, an unset value null. */
export type OtlpValue = string | number | boolean | Uint8Array | null | readonly OtlpValue[] | Attributes;
export type Attributes = ReadonlyMap<string, OtlpValue>;

export interface Resource {
  readonly attributes: Attributes;
}
export interface Scope {
  readonly name: string;
  readonly version: string;
  readonly attributes: Attributes;
}

export const SpanKind = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export const StatusCode = { unset: 0, ok: 1, error: 2 } as const;

export interface SpanEvent {
  readonly timeUnixNano: bigint;
  readonly name: string;
  readonly attributes: Attributes;
}
export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Attributes;
}

export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly traceState: string;
  readonly name: string;
  readonly kind: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly events: readonly SpanEvent[];
  readonly links: readonly SpanLink[];
  readonly status: { readonly code: number; readonly message: string };
}

export interface NumberDataPoint {
  readonly attributes: Attributes;
  readonly timeUnixNano: bigint;
  readonly value: number;
}

export interface HistogramDataPoint {
  readonly attributes: Attributes;
  readonly timeUnixNano: bigint;
  readonly count: number;
  readonly sum: number | undefined;
  readonly bucketCounts: readonly number[];
  readonly explicitBounds: readonly number[];
}

export interface SummaryDataPoint {
  readonly attributes: Attributes;
  readonly timeUnixNano: bigint;
  readonly count: number;
  readonly sum: number;
  readonly quantiles: ReadonlyArray<{ readonly quantile: number; readonly value: number }>;
}

export type MetricData =
  | { readonly kind: 'gauge'; readonly points: readonly NumberDataPoint[] }
  | {
      readonly kind: 'sum';
      readonly points: readonly NumberDataPoint[];
      readonly monotonic: boolean;
      readonly temporality: number;
    }
  | { readonly kind: 'histogram'; readonly points: readonly HistogramDataPoint[]; readonly temporality: number }
  | { readonly kind: 'summary'; readonly points: readonly SummaryDataPoint[] }
  /** Exponential histograms and metrics without data: counted, answered as rejected data points. */
  | { readonly kind: 'unsupported'; readonly type: string; readonly points: number };

export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly data: MetricData;
}

export interface LogRecord {
  readonly timeUnixNano: bigint;
  readonly observedTimeUnixNano: bigint;
  readonly severityNumber: number;
  readonly severityText: string;
  readonly body: OtlpValue;
  readonly attributes: Attributes;
  readonly traceId: string;
  readonly spanId: string;
  readonly eventName: string;
}

interface ScopeItems<T> {
  readonly scope: Scope;
  readonly items: readonly T[];
}
export interface ResourceItems<T> {
  readonly resource: Resource;
  readonly scopes: ReadonlyArray<ScopeItems<T>>;
}

export type OtlpRequest =
  | { readonly signal: 'traces'; readonly resources: ReadonlyArray<ResourceItems<Span>> }
  | { readonly signal: 'metrics'; readonly resources: ReadonlyArray<ResourceItems<Metric>> }
  | { readonly signal: 'logs'; readonly resources: ReadonlyArray<ResourceItems<LogRecord>> };

/** What the proxy counts: items the forwarder will index, and metric data points it cannot (partial success). */
export interface OtlpCounts {
  readonly items: number;
  readonly rejected: number;
}

export function countItems(request: OtlpRequest): OtlpCounts {
  if (request.signal !== 'metrics') {
    let items = 0;
    for (const resource of request.resources) for (const scope of resource.scopes) items += scope.items.length;
    return { items, rejected: 0 };
  }
  let items = 0;
  let rejected = 0;
  for (const resource of request.resources) {
    for (const scope of resource.scopes) {
      for (const metric of scope.items) {
        if (metric.data.kind === 'unsupported') rejected += metric.data.points;
        else items += metric.data.points.length;
      }
    }
  }
  return { items, rejected };
}

/** A kvlist AnyValue (instanceof alone would type it as Map<any, any>). */
export function isKvList(value: OtlpValue | undefined): value is Attributes {
  return value instanceof Map;
}
