import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { createJobTransformer } from '../../forwarder/transform';
import { createWriter } from '../../test/integration/forwarder/support';
import { EsStandin } from '../../test/support/es-standin/server';
import { freePort } from '../../test/support/ports';
import { RedisServer } from '../../test/support/redis';
import { firstJsonLine, progress, spawnCli, spawnTs, stop } from '../processes';
import { procStat } from '../procstat';
import type { ScenarioResult } from '../report';
import { type IntakeBenchOptions, runLoad, startProxyProcess, waitReady } from './intake';

export interface EndToEndOptions extends IntakeBenchOptions {
  /** Agent requests sent through the proxy (each of ~40 events). */
  readonly totalRequests: number;
  readonly forwarders: number;
}

/** The documents the forwarder will write for `count` requests, made ahead of time for the direct loader. */
function documentsFile(options: EndToEndOptions, count: number): string {
  const file = path.join(options.dir, `docs-${count}.ndjson`);
  const out = fs.openSync(file, 'w');
  for (let i = 0; i < count; i++) {
    const request = options.requests[i % options.requests.length];
    if (request === undefined) break;
    const [metadata = '', ...events] = zlib
      .gunzipSync(request.body)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    const transformer = createJobTransformer(metadata, {
      receivedAt: Date.now(),
      client: { ip: '127.0.0.1', userAgent: null },
      identity: { kind: 'anonymous' },
      namespace: 'default',
    });
    const lines = events.flatMap((line) => {
      const result = transformer.transform(line);
      return result.ok
        ? [JSON.stringify({ index: result.doc.dataStream, id: randomUUID(), source: result.doc.source })]
        : [];
    });
    fs.writeSync(out, `${lines.join('\n')}\n`);
  }
  fs.closeSync(out);
  return file;
}

function indexed(standin: EsStandin): number {
  return standin.counters.itemsByStatus['201'] ?? 0;
}

async function waitIndexed(standin: EsStandin, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (indexed(standin) < expected) {
    if (Date.now() > deadline)
      throw new Error(`only ${indexed(standin)} of ${expected} documents indexed after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startForwarder(
  standin: EsStandin,
  writer: { username: string; password: string },
  redisUrl: string,
  queue: string,
): Promise<ChildProcess> {
  const adminPort = await freePort();
  const child = spawnCli(['forwarder'], {
    PATH: process.env.PATH,
    APM_SIDECAR_REDIS_URL: redisUrl,
    APM_SIDECAR_QUEUE: queue,
    APM_SIDECAR_ES_HOSTS: standin.url,
    APM_SIDECAR_ES_USERNAME: writer.username,
    APM_SIDECAR_ES_PASSWORD: writer.password,
    APM_SIDECAR_ES_CA: standin.caFile,
    APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
    APM_SIDECAR_LOG_LEVEL: 'warn',
  });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[forwarder] ${d.toString()}`));
  child.stdout?.on('data', (d: Buffer) => process.stderr.write(`[forwarder] ${d.toString()}`));
  await waitReady(adminPort);
  return child;
}

function isLoaderResult(v: unknown): v is { docs: number; seconds: number; errors: number } {
  return typeof v === 'object' && v !== null && 'docs' in v && 'seconds' in v;
}

/**
 * Scenario 2: documents/s from the first request to the last document indexed in the stand-in, through
 * proxy -> Redis -> forwarder(s), against a direct _bulk loader writing the same documents to the same stand-in.
 */
export async function endToEndScenario(options: EndToEndOptions): Promise<ScenarioResult> {
  const standin = await EsStandin.start({
    tls: {
      cert: fs.readFileSync(options.pki.certFile, 'utf8'),
      key: fs.readFileSync(options.pki.keyFile, 'utf8'),
      caFile: options.pki.caFile,
    },
  });
  const writer = await createWriter(standin);
  const redis = await RedisServer.start();
  const procs: ChildProcess[] = [];
  try {
    progress(
      `end-to-end (${options.forwarders} forwarder${options.forwarders > 1 ? 's' : ''}): baseline direct _bulk loader`,
    );
    const docs = documentsFile(options, options.totalRequests);
    const loader = spawnTs('bench/baseline-bulk-loader.ts', [
      JSON.stringify({ url: standin.url, ca: standin.caFile, ...writer, docs, concurrency: 4, flushBytes: 1048576 }),
    ]);
    const baseline = await firstJsonLine(loader, isLoaderResult, 600_000);
    await standin.restart({ keepDocuments: false });
    standin.resetCounters();

    progress(`end-to-end: apm-sidecar proxy + ${options.forwarders} forwarder(s), ${options.totalRequests} requests`);
    const queue = `bench-${randomUUID()}`;
    const proxy = await startProxyProcess(options, redis.url, { APM_SIDECAR_QUEUE: queue });
    procs.push(proxy.child);
    for (let i = 0; i < options.forwarders; i++) procs.push(await startForwarder(standin, writer, redis.url, queue));
    const cpuBefore = procs.map((p) => procStat(p.pid ?? 0).cpuSeconds);
    const t0 = process.hrtime.bigint();
    const load = await runLoad(proxy.url, { ...options, seconds: 600 }, { maxRequests: options.totalRequests });
    await waitIndexed(standin, load.eventsAccepted, 600_000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = procs.map((p, i) => procStat(p.pid ?? 0).cpuSeconds - (cpuBefore[i] ?? 0));
    const ours = load.eventsAccepted / seconds;
    const base = baseline.docs / baseline.seconds;
    const ratio = ours / base;
    return {
      scenario: options.forwarders > 1 ? `end-to-end, ${options.forwarders} forwarders` : 'end-to-end',
      metric: 'documents/s indexed',
      ours,
      baseline: base,
      ratio,
      goal: 'ratio >= 0.8',
      met: ratio >= 0.8,
      details: {
        documents: load.eventsAccepted,
        'seconds (ours)': seconds,
        'seconds (baseline)': baseline.seconds,
        'proxy CPU s': cpu[0] ?? 0,
        'forwarder CPU s': cpu.slice(1).reduce((a, b) => a + b, 0),
        statuses: JSON.stringify(load.byStatus),
      },
    };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await redis.destroy();
    await standin.close();
  }
}
