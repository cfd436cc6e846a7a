import { isRecord, type JsonObject, obj, str } from './json';
import { type Labels, sanitizeLabelKey } from './labels';

/**
 * The OpenTelemetry bridge's `otel` object (span_kind and attributes). A deliberate subset of APM Server's OTLP
 * translation: span.kind with its defaults, profiler stack trace ids, the transaction result/outcome defaults for
 * an unset span status, messaging queue names and HTTP status/method; every other attribute becomes a label.
 * docs/compatibility.md lists what is not translated.
 */
export interface OtelResult {
  kind: string | undefined;
  labels: Labels;
  profilerStackTraceIds: string[] | undefined;
  httpStatusCode: number | undefined;
  httpMethod: string | undefined;
  queueName: string | undefined;
}

const consumedKeys = new Set([
  'elastic.profiler_stack_trace_ids',
  'http.status_code',
  'http.response.status_code',
  'http.method',
  'http.request.method',
  'messaging.destination',
  'messaging.destination.name',
]);

export function readOtel(event: JsonObject, base: Labels): OtelResult | undefined {
  const otel = obj(event, 'otel');
  if (otel === undefined) return undefined;
  const attributes = obj(otel, 'attributes') ?? {};
  const labels: Record<string, string | readonly string[]> = { ...base.labels };
  const numeric: Record<string, number | readonly number[]> = { ...base.numeric };
  for (const key in attributes) {
    if (consumedKeys.has(key)) continue;
    const value = attributes[key];
    const labelKey = sanitizeLabelKey(key);
    if (typeof value === 'string' || typeof value === 'boolean') labels[labelKey] = String(value);
    else if (typeof value === 'number') numeric[labelKey] = value;
    else if (Array.isArray(value) && value.length > 0) {
      if (value.every((v) => typeof v === 'number'))
        numeric[labelKey] = value.filter((v): v is number => typeof v === 'number');
      else labels[labelKey] = value.map((v) => (isRecord(v) ? JSON.stringify(v) : String(v)));
    }
  }
  const ids = attributes['elastic.profiler_stack_trace_ids'];
  const status = attributes['http.status_code'] ?? attributes['http.response.status_code'];
  const method = attributes['http.method'] ?? attributes['http.request.method'];
  const queue = attributes['messaging.destination'] ?? attributes['messaging.destination.name'];
  return {
    kind: str(otel, 'span_kind'),
    labels: { labels, numeric },
    profilerStackTraceIds: Array.isArray(ids) ? ids.filter((v): v is string => typeof v === 'string') : undefined,
    httpStatusCode: typeof status === 'number' ? Math.trunc(status) : undefined,
    httpMethod: typeof method === 'string' ? method : undefined,
    queueName: typeof queue === 'string' ? queue : undefined,
  };
}

export function defaultTransactionKind(type: string): string {
  if (type === 'messaging') return 'CONSUMER';
  if (type === 'request') return 'SERVER';
  return 'INTERNAL';
}

export function defaultSpanKind(type: string): string {
  return type === 'db' || type === 'external' || type === 'storage' ? 'CLIENT' : 'INTERNAL';
}
