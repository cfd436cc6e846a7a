import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/**
 * Real OTLP bodies, made by the OpenTelemetry JS SDK and encoded by its own serializers (@opentelemetry/
 * otlp-transformer, the code its exporters send with): an encoder that is not ours.
 */

export const sdkResource = resourceFromAttributes({
  'service.name': 'otlp-checkout',
  'service.version': '1.4.2',
  'deployment.environment.name': 'staging',
  'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.language': 'nodejs',
  'telemetry.sdk.version': '2.12.1',
  'host.name': 'web-1',
});

/** A server span with a client child and a DB grandchild; the DB span records an exception. */
export function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: sdkResource,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('checkout-instrumentation', '0.9.0');
  const server = tracer.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/cart',
      'url.scheme': 'https',
      'http.response.status_code': 200,
      'http.route': '/cart',
      'cart.items': 3,
    },
  });
  const serverContext = trace.setSpan(context.active(), server);
  const client = tracer.startSpan(
    'GET',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'GET',
        'url.full': 'https://pricing.internal:8443/prices?sku=1',
        'server.address': 'pricing.internal',
        'server.port': 8443,
        'http.response.status_code': 503,
      },
    },
    serverContext,
  );
  client.setStatus({ code: SpanStatusCode.ERROR });
  client.end();
  const db = tracer.startSpan(
    'SELECT carts',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.query.text': 'SELECT * FROM carts WHERE id = $1',
        'db.namespace': 'shop',
      },
    },
    serverContext,
  );
  db.recordException(new TypeError('connection reset'));
  db.end();
  server.end();
  return exporter.getFinishedSpans();
}

export function tracesBody(format: 'protobuf' | 'json', spans: ReadableSpan[] = sdkSpans()): Buffer {
  const bytes =
    format === 'protobuf'
      ? ProtobufTraceSerializer.serializeRequest(spans)
      : JsonTraceSerializer.serializeRequest(spans);
  if (bytes === undefined) throw new Error('the SDK serializer returned nothing');
  return Buffer.from(bytes);
}

/** A counter, a gauge and a histogram, collected once. */
export async function sdkMetrics(): Promise<ResourceMetrics> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ resource: sdkResource, readers: [reader] });
  const meter = provider.getMeter('checkout-metrics');
  meter.createCounter('orders.placed').add(5, { region: 'eu' });
  meter.createGauge('queue.depth', { unit: '{job}' }).record(17);
  meter.createHistogram('checkout.duration', { unit: 'ms' }).record(120, { 'http.route': '/cart' });
  const collected = await reader.collect();
  await provider.shutdown();
  return collected.resourceMetrics;
}

export async function metricsBody(format: 'protobuf' | 'json', collected?: ResourceMetrics): Promise<Buffer> {
  const metrics = collected ?? (await sdkMetrics());
  const bytes =
    format === 'protobuf'
      ? ProtobufMetricsSerializer.serializeRequest(metrics)
      : JsonMetricsSerializer.serializeRequest(metrics);
  if (bytes === undefined) throw new Error('the SDK serializer returned nothing');
  return Buffer.from(bytes);
}

/** Two log records, one carrying an exception. */
export function sdkLogs(): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: sdkResource,
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('checkout-logs');
  logger.emit({ severityNumber: 9, severityText: 'INFO', body: 'cart loaded', attributes: { 'cart.id': 'c-1' } });
  logger.emit({
    severityNumber: 17,
    severityText: 'ERROR',
    body: 'payment failed',
    attributes: { 'exception.type': 'PaymentError', 'exception.message': 'card declined' },
  });
  return exporter.getFinishedLogRecords();
}

export function logsBody(format: 'protobuf' | 'json'): Buffer {
  const logs = sdkLogs();
  const bytes =
    format === 'protobuf' ? ProtobufLogsSerializer.serializeRequest(logs) : JsonLogsSerializer.serializeRequest(logs);
  if (bytes === undefined) throw new Error('the SDK serializer returned nothing');
  return Buffer.from(bytes);
}
