import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';

import { SpanKind } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { DeadLetterQueue } from '../../queue/dead-letter';
import { createWriter, metadataLine, transactionLine, waitFor } from '../integration/forwarder/support';
import { testPki } from '../support/certs';
import { EsStandin } from '../support/es-standin/server';
import { tracesBody } from '../support/otlp-sdk';
import { freePort, waitForPort } from '../support/ports';
import { RedisServer } from '../support/redis';
import { CliProcess, forwarderProcessConfig } from './forwarder/processes';

/**
 * The oracle: events sent through the spawned proxy, each 202 recorded, while the forwarder is SIGKILLed
 * mid-bulk twice, 30% of bulk items are answered 429, the stand-in goes away for a few seconds and redis-server
 * restarts. In the end every acknowledged event is in the index exactly once and nothing was dead-lettered.
 * Beside the intake v2 senders, an OpenTelemetry SDK sends OTLP/HTTP protobuf spans (its own serializer) through
 * the same faults: every span the proxy answered 200 is a transaction in the index exactly once.
 */
const token = 'conservation-token';
const eventsPerRequest = 10;

async function queueCounts(redisUrl: string, queueName: string): Promise<Record<string, number>> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
  await queue.close();
  connection.disconnect();
  return counts;
}

const otlpService = 'otlp-conservation';

/** `count` root server spans made by the OpenTelemetry SDK: their ids (hex) and the OTLP/HTTP protobuf body. */
function otlpSpans(count: number): { ids: string[]; body: Buffer } {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': otlpService, 'telemetry.sdk.language': 'nodejs' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('conservation');
  for (let i = 0; i < count; i++) tracer.startSpan('GET /otlp', { kind: SpanKind.SERVER }).end();
  const spans = exporter.getFinishedSpans();
  return { ids: spans.map((s) => s.spanContext().spanId), body: tracesBody('protobuf', spans) };
}

function post(
  port: number,
  ca: Buffer,
  body: string | Buffer,
  route: { path: string; contentType: string } = { path: '/intake/v2/events', contentType: 'application/x-ndjson' },
): Promise<number> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: route.path,
        method: 'POST',
        ca,
        agent: false,
        timeout: 10_000,
        headers: { authorization: `Bearer ${token}`, 'content-type': route.contentType },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

describe('conservation under faults (spawned proxy and forwarders, real redis-server, stand-in)', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start({ args: ['--appendfsync', 'always'] });
    standin = await EsStandin.start();
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.destroy()));
    await standin.close();
    await redis.destroy();
  });

  it('indexes every acknowledged event exactly once', async () => {
    const pki = testPki();
    const ca = fs.readFileSync(pki.caFile);
    const writer = await createWriter(standin);
    const queueName = `conservation-${randomUUID()}`;
    const intakePort = await freePort();
    const proxy = await CliProcess.start('proxy', 'proxy', {
      server: {
        host: `127.0.0.1:${intakePort}`,
        auth: { secret_tokens: [token] },
        ssl: { certificate: pki.serverCertFile, key: pki.serverKeyFile },
      },
      queue: { redis: { url: redis.url, command_timeout: '2s' }, name: queueName, durability: 'fsync' },
      log: { level: 'warn' },
    });
    processes.push(proxy);
    await waitForPort(intakePort);
    const fwdConfig = forwarderProcessConfig(redis.url, queueName, {
      url: standin.url,
      caFile: standin.caFile,
      ...writer,
    });
    const startForwarder = async (name: string): Promise<CliProcess> => {
      const p = await CliProcess.start(name, 'forwarder', fwdConfig);
      processes.push(p);
      return p;
    };
    let forwarder = await startForwarder('forwarder-1');
    standin.setFaults({ bulkItemRejectShare: 0.3, delay: { ms: 100 } });

    const acked = new Set<number>();
    let seq = 0;
    let sending = true;
    const sender = async (): Promise<void> => {
      while (sending) {
        const first = seq;
        seq += eventsPerRequest;
        const lines = Array.from({ length: eventsPerRequest }, (_, i) => transactionLine(first + i));
        const status = await post(intakePort, ca, `${[metadataLine, ...lines].join('\n')}\n`);
        if (status === 202) for (let i = 0; i < eventsPerRequest; i++) acked.add(first + i);
        // An agent's pace, not a load test: a few thousand events keep the end-to-end check quick.
        await new Promise((r) => setTimeout(r, status === 202 ? 100 : 250));
      }
    };
    const otlpAcked = new Set<string>();
    const otlpSender = async (): Promise<void> => {
      while (sending) {
        const { ids, body } = otlpSpans(eventsPerRequest);
        const status = await post(intakePort, ca, body, {
          path: '/v1/traces',
          contentType: 'application/x-protobuf',
        });
        if (status === 200) for (const id of ids) otlpAcked.add(id);
        await new Promise((r) => setTimeout(r, status === 200 ? 100 : 250));
      }
    };
    const senders = Promise.all([sender(), sender(), sender(), sender(), otlpSender()]);
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const killMidBulk = async (): Promise<void> => {
      const seen = standin.counters.requests;
      await waitFor('a bulk reaches the stand-in', () => standin.counters.requests > seen);
      expect((await forwarder.kill('SIGKILL')).signal).toBe('SIGKILL');
    };

    await pause(2000);
    await killMidBulk();
    forwarder = await startForwarder('forwarder-2');
    await pause(2000);
    await standin.stop();
    await pause(3000);
    await standin.resume();
    await pause(2000);
    await redis.restart();
    await pause(3000);
    await killMidBulk();
    forwarder = await startForwarder('forwarder-3');
    await pause(2000);
    sending = false;
    await senders;
    standin.setFaults({ bulkItemRejectShare: 0.3 });

    expect(acked.size).toBeGreaterThan(500);
    expect(otlpAcked.size).toBeGreaterThan(50);
    /** The transaction ids in the index, of the intake v2 senders or of the OTLP one (by service). */
    const indexedIds = (fromOtlp: boolean): string[] =>
      standin.documents('traces-apm*').flatMap((d) => {
        const tx = d.source.transaction;
        const service = d.source.service;
        const isOtlp =
          service !== null && typeof service === 'object' && 'name' in service && service.name === otlpService;
        return isOtlp === fromOtlp && tx !== null && typeof tx === 'object' && 'id' in tx && typeof tx.id === 'string'
          ? [tx.id]
          : [];
      });
    const transactionIds = (): number[] => indexedIds(false).map((id) => parseInt(id, 16));
    const missing = (): Array<number | string> => {
      const indexed = new Set(transactionIds());
      const indexedOtlp = new Set(indexedIds(true));
      return [...[...acked].filter((id) => !indexed.has(id)), ...[...otlpAcked].filter((id) => !indexedOtlp.has(id))];
    };
    const deadline = Date.now() + 110_000;
    while (missing().length > 0 && Date.now() < deadline) await pause(500);
    const stillMissing = missing();
    if (stillMissing.length > 0) {
      const counts = await queueCounts(redis.url, queueName);
      throw new Error(
        `${stillMissing.length} of ${acked.size + otlpAcked.size} acknowledged events not indexed (e.g. ${stillMissing.slice(0, 5).join(', ')}); queue: ${JSON.stringify(counts)}`,
      );
    }
    const ids = transactionIds();
    expect(ids.length).toBe(new Set(ids).size);
    const otlpIds = indexedIds(true);
    expect(otlpIds.length).toBe(new Set(otlpIds).size);
    expect(otlpIds.length).toBe(otlpAcked.size);
    const inspect = new Redis(redis.url);
    expect(await new DeadLetterQueue(inspect, queueName, { maxEntries: 1, maxAgeMs: 1 }).size()).toBe(0);
    inspect.disconnect();

    const fresh = seq + 1_000_000;
    expect(await post(intakePort, ca, `${metadataLine}\n${transactionLine(fresh)}\n`)).toBe(202);
    await waitFor('a fresh event gets through', () => transactionIds().includes(fresh));
    expect(standin.counters.itemsByStatus['429']).toBeGreaterThan(0);
    expect((await forwarder.kill('SIGTERM')).code).toBe(0);
    expect((await proxy.kill('SIGTERM')).code).toBe(0);
    // For the record (the report quotes it): how much happened in this run.
    const summary = {
      acked: acked.size,
      indexed: ids.length,
      otlpAcked: otlpAcked.size,
      otlpIndexed: otlpIds.length,
      itemsByStatus: standin.counters.itemsByStatus,
      bulkRequests: standin.counters.bulkRequests,
    };
    fs.writeFileSync(`${os.tmpdir()}/apm-sidecar-conservation-last.json`, JSON.stringify(summary));
    const unexpected = processes.flatMap((p) => p.errors());
    expect(unexpected).toEqual([]);
  }, 170_000);
});
