import fs from 'node:fs';

import { credentials, Metadata } from '@grpc/grpc-js';
import type { ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as LogsGrpcExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as LogsJsonExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as MetricsGrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as MetricsJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as TracesGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as TracesJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TracesProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';

import { sdkLogs, sdkMetrics, sdkSpans } from '../support/otlp-sdk';

/**
 * A child process (the exporters load their transport with a dynamic import, which jest's VM refuses): exports one
 * batch of spans, metrics and logs with the SDK's own OTLP exporters (OTLP_FORMAT protobuf, json or grpc) to
 * OTLP_BASE_URL with OTLP_TOKEN over TLS trusting CA_FILE, and prints the results as one JSON line.
 */
function exported(run: (done: (result: ExportResult) => void) => void): Promise<{ code: number; error?: string }> {
  return new Promise((resolve) =>
    run((r) => resolve(r.error === undefined ? { code: r.code } : { code: r.code, error: String(r.error) })),
  );
}

async function main(): Promise<void> {
  const base = process.env.OTLP_BASE_URL ?? '';
  const options = (
    signal: string,
  ): { url: string; headers: Record<string, string>; httpAgentOptions: { ca: string } } => ({
    url: `${base}/v1/${signal}`,
    headers: { Authorization: `Bearer ${process.env.OTLP_TOKEN ?? ''}` },
    httpAgentOptions: { ca: fs.readFileSync(process.env.CA_FILE ?? '', 'utf8') },
  });
  const format = process.env.OTLP_FORMAT;
  const ca = fs.readFileSync(process.env.CA_FILE ?? '');
  const grpcOptions = (): {
    url: string;
    credentials: ReturnType<typeof credentials.createSsl>;
    metadata: Metadata;
  } => {
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${process.env.OTLP_TOKEN ?? ''}`);
    return { url: base, credentials: credentials.createSsl(ca), metadata };
  };
  const json = format === 'json';
  const grpc = format === 'grpc';
  const traces = grpc
    ? new TracesGrpcExporter(grpcOptions())
    : json
      ? new TracesJsonExporter(options('traces'))
      : new TracesProtoExporter(options('traces'));
  const metrics = grpc
    ? new MetricsGrpcExporter(grpcOptions())
    : json
      ? new MetricsJsonExporter(options('metrics'))
      : new MetricsProtoExporter(options('metrics'));
  const logs = grpc
    ? new LogsGrpcExporter(grpcOptions())
    : json
      ? new LogsJsonExporter(options('logs'))
      : new LogsProtoExporter(options('logs'));
  const spans = sdkSpans();
  const collected = await sdkMetrics();
  const result = {
    traceId: spans[0]?.spanContext().traceId ?? '',
    traces: await exported((done) => traces.export(spans, done)),
    metrics: await exported((done) => metrics.export(collected, done)),
    logs: await exported((done) => logs.export(sdkLogs(), done)),
  };
  await Promise.all([traces.shutdown(), metrics.shutdown(), logs.shutdown()]);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(2);
});
