import fs from 'node:fs';
import zlib from 'node:zlib';

import { context, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

import { sdkResource } from '../../test/support/otlp-sdk';
import { RedisServer } from '../../test/support/redis';
import type { AgentRequest } from '../corpus';
import { progress, stop } from '../processes';
import { procStat } from '../procstat';
import type { ScenarioResult } from '../report';
import { type IntakeBenchOptions, runLoad, startProxyProcess } from './intake';

/**
 * OTLP intake: how many spans per proxy CPU second `apm-sidecar proxy` accepts as OTLP/HTTP protobuf (gzip, TLS,
 * token, decode, durable enqueue), with requests the OpenTelemetry JS SDK's own serializer wrote: 40 spans each
 * (one server span with 3 client children, HTTP and DB attributes), as a BatchSpanProcessor would send them.
 */
function otlpRequests(count: number): AgentRequest[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: sdkResource,
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('bench-instrumentation', '1.0.0');
  const requests: AgentRequest[] = [];
  for (let r = 0; r < count; r++) {
    exporter.reset();
    for (let t = 0; t < 10; t++) {
      const server = tracer.startSpan(`GET /items/${t}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': 'GET',
          'url.path': `/items/${t}`,
          'url.scheme': 'https',
          'http.response.status_code': 200,
          'http.route': '/items/:id',
        },
      });
      const parent = trace.setSpan(context.active(), server);
      for (let c = 0; c < 3; c++) {
        const child = tracer.startSpan(
          'SELECT items',
          {
            kind: SpanKind.CLIENT,
            attributes: {
              'db.system': 'postgresql',
              'db.query.text': 'SELECT * FROM items WHERE id = $1',
              'db.namespace': 'shop',
              'server.address': 'db.local',
              'server.port': 5432,
            },
          },
          parent,
        );
        child.end();
      }
      server.end();
    }
    const raw = ProtobufTraceSerializer.serializeRequest(exporter.getFinishedSpans());
    if (raw === undefined) throw new Error('the SDK serializer returned nothing');
    requests.push({ body: zlib.gzipSync(raw), events: 40, rawBytes: raw.length });
  }
  return requests;
}

export async function otlpIntakeScenario(options: Omit<IntakeBenchOptions, 'requests'>): Promise<ScenarioResult> {
  const requests = otlpRequests(50);
  const load = { ...options, requests, dir: `${options.dir}/otlp` };
  fs.mkdirSync(load.dir, { recursive: true });
  progress(
    `otlp: apm-sidecar proxy + redis-server, OTLP/HTTP protobuf, ${options.seconds}s, ${options.connections} connections`,
  );
  const redis = await RedisServer.start();
  try {
    const proxy = await startProxyProcess(load, redis.url);
    const pid = proxy.child.pid ?? 0;
    const before = procStat(pid).cpuSeconds;
    const result = await runLoad(proxy.url, load, { path: '/v1/traces', contentType: 'application/x-protobuf' });
    const cpu = procStat(pid).cpuSeconds - before;
    await stop(proxy.child);
    const perCpu = result.eventsAccepted / Math.max(cpu, 0.001);
    return {
      scenario: 'otlp',
      metric: 'OTLP spans per proxy CPU s',
      ours: perCpu,
      baseline: null,
      ratio: null,
      goal: 'reported',
      met: result.eventsAccepted > 0,
      details: {
        'spans/s accepted': result.eventsAccepted / result.seconds,
        'requests/s': result.requests / result.seconds,
        'p50 ms': result.latencyMs.p50,
        'p99 ms': result.latencyMs.p99,
        statuses: JSON.stringify(result.byStatus),
        'proxy CPU s': cpu,
        'events per proxy CPU s': perCpu,
      },
    };
  } finally {
    await redis.destroy();
  }
}
