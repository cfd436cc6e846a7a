import { randomBytes } from 'node:crypto';
import net from 'node:net';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { decodeJobBody, parseIntakeJobData } from '../../queue/contract';
import { halfSentRequest, intakeMetadataLine, requestsInFlight, sampleSum } from '../support/in-flight-request';
import type { LogLine } from '../support/log-line';
import { eventually, httpRequest, testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { proxyEnv, spawnCli, type SpawnedProcess } from '../support/spawn-cli';

// Spawned processes on a loaded 2-core machine (8 jobs at once): a bound that proves each test ends, not how fast.
jest.setTimeout(240_000);

/** Generous bounds: they prove that something happens, never how fast. */
const startBoundMs = 60_000;
const exitBoundMs = 45_000;

function eventLine(id: string): string {
  return `${JSON.stringify({ transaction: { id, trace_id: randomBytes(16).toString('hex'), type: 'request', duration: 1, span_count: { started: 0 } } })}\n`;
}

const headers = { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-ndjson' };

/** One intake request of two events on a fresh connection (the cluster hands each connection to the next worker). */
async function sendTwoEvents(port: number): Promise<{ status: number; ids: string[] }> {
  const ids = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
  const res = await httpRequest(`https://127.0.0.1:${port}/intake/v2/events`, {
    method: 'POST',
    headers,
    body: intakeMetadataLine + ids.map(eventLine).join(''),
  });
  return { status: res.status, ids };
}

/** The event ids in every job of the queue. */
async function queuedIds(queue: Queue): Promise<string[]> {
  const jobs = await queue.getJobs(['waiting']);
  return jobs.flatMap((job) =>
    decodeJobBody(parseIntakeJobData(job.data), 1 << 20).events.map(
      (e) => (JSON.parse(e.line) as { transaction: { id: string } }).transaction.id,
    ),
  );
}

function workerPids(lines: readonly LogLine[]): number[] {
  return lines.filter((l) => l.msg === 'proxy worker started').map((l) => Number(l.pid));
}

function portOf(lines: readonly LogLine[], message: string): number {
  const line = lines.find((l) => l.msg === message);
  if (line === undefined) throw new Error(`no "${message}" line`);
  return Number(line.port);
}

describe('server.workers: 2 proxy processes on one port (spawned `apm-sidecar proxy`)', () => {
  let redis: RedisServer;
  let connection: Redis;
  let queue: Queue;
  let proxy: SpawnedProcess;
  let intakePort: number;
  let adminUrl: string;
  const acknowledged: string[] = [];
  const queueName = `workers-${process.pid}`;

  beforeAll(async () => {
    redis = await RedisServer.start();
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(queueName, { connection });
    proxy = spawnCli(
      ['proxy'],
      proxyEnv(redis.url, {
        APM_SIDECAR_SERVER_WORKERS: '2',
        APM_SIDECAR_QUEUE: queueName,
        // Far above what the drain test needs: its requests finish when it says, so the drain ends then.
        APM_SIDECAR_SERVER_SHUTDOWN_TIMEOUT: '30s',
        APM_SIDECAR_LOG_FORMAT: 'json',
      }),
    );
    await proxy.waitFor(/"message":"admin listening/, startBoundMs);
    intakePort = portOf(proxy.logLines(), 'proxy workers listening');
    adminUrl = `http://127.0.0.1:${portOf(proxy.logLines(), 'admin listening (/healthz, /readyz, /metrics)')}`;
  });

  afterAll(async () => {
    await proxy?.stop('SIGKILL');
    await queue?.close();
    connection?.disconnect();
    await redis?.destroy();
  });

  it('accepts intake on both workers, queues every acknowledged event, and /metrics and /readyz answer for both', async () => {
    expect(new Set(workerPids(proxy.logLines())).size).toBe(2);
    for (let i = 0; i < 20; i++) {
      const { status, ids } = await sendTwoEvents(intakePort);
      expect(status).toBe(202);
      acknowledged.push(...ids);
    }
    expect((await queuedIds(queue)).sort()).toEqual([...acknowledged].sort());
    const metrics = await httpRequest(`${adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    // 20 connections handed out in turn: each worker counted 10, so a /metrics that read only one would say 10.
    expect(sampleSum(metrics.body, 'apm_sidecar_intake_requests_total', (l) => l.includes('status="202"'))).toBe(20);
    expect(sampleSum(metrics.body, 'apm_sidecar_intake_events_total', (l) => l.includes('result="accepted"'))).toBe(40);
    expect(sampleSum(metrics.body, 'apm_sidecar_proxy_workers')).toBe(2);
    expect(sampleSum(metrics.body, 'apm_sidecar_ready')).toBe(1);
    const ready = await httpRequest(`${adminUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, details: { workers: 2, workers_ready: 2 } });
  });

  it('replaces a worker killed with SIGKILL (logged at error with the signal) and keeps serving', async () => {
    const [victim, survivor] = workerPids(proxy.logLines());
    if (victim === undefined || survivor === undefined) throw new Error('two worker pids expected');
    process.kill(victim, 'SIGKILL');
    await eventually(
      () => (proxy.logLines().some((l) => l.msg?.startsWith('proxy worker exited') === true) ? true : undefined),
      exitBoundMs,
      'the primary to log the exit',
    );
    const exited = proxy.logLines().find((l) => l.msg?.startsWith('proxy worker exited') === true);
    expect(exited).toMatchObject({ level: 'error', pid: victim, signal: 'SIGKILL' });
    for (let i = 0; i < 6; i++) {
      const { status, ids } = await sendTwoEvents(intakePort);
      expect(status).toBe(202);
      acknowledged.push(...ids);
    }
    await eventually(
      () => (workerPids(proxy.logLines()).length === 3 ? true : undefined),
      startBoundMs,
      'a replacement worker',
    );
    const ready = await eventually(async () => {
      const res = await httpRequest(`${adminUrl}/readyz`);
      return res.status === 200 ? res : undefined;
    }, startBoundMs);
    expect(JSON.parse(ready.body)).toMatchObject({ details: { workers_ready: 2 } });
    const metrics = await httpRequest(`${adminUrl}/metrics`);
    expect(sampleSum(metrics.body, 'apm_sidecar_proxy_worker_restarts_total')).toBe(1);
    expect((await queuedIds(queue)).sort()).toEqual([...acknowledged].sort());
  });

  it('SIGTERM drains every worker: requests in flight on both finish with 202, then it exits 0', async () => {
    const ids = [randomBytes(8).toString('hex'), randomBytes(8).toString('hex')];
    const inFlight = ids.map((id) => halfSentRequest(intakePort, eventLine(id)));
    // Both requests are being served (their headers read) before the signal.
    await requestsInFlight(adminUrl, 2);
    proxy.child.kill('SIGTERM');
    await eventually(async () => {
      const res = await httpRequest(`${adminUrl}/readyz`).catch(() => undefined);
      return res?.status === 503 ? true : undefined;
    });
    for (const request of inFlight) request.finish();
    for (const request of inFlight) expect((await request.response).status).toBe(202);
    acknowledged.push(...ids);
    expect(await proxy.exitWithin(exitBoundMs)).toEqual({ code: 0, signal: null });
    expect((await queuedIds(queue)).sort()).toEqual([...acknowledged].sort());
    const errors = proxy.logLines().filter((l) => l.level === 'error');
    expect(errors.map((l) => l.msg)).toEqual(['proxy worker exited; starting another in its place']);
  });
});

describe('server.workers: a fatal start error', () => {
  let redis: RedisServer;

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  it('a port in use ends the primary at once with status 1, the code and the key (no restart loop)', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    try {
      const child = spawnCli(
        ['proxy'],
        proxyEnv(redis.url, { APM_SIDECAR_SERVER_WORKERS: '2', APM_SIDECAR_HOST: `127.0.0.1:${address.port}` }),
      );
      expect(await child.exitWithin(exitBoundMs)).toEqual({ code: 1, signal: null });
      expect(child.stderr).toContain('SIDECAR_ERR_LISTEN_FAILED');
      expect(child.stderr).toContain('server.host');
      expect(child.logLines().filter((l) => l.msg === 'proxy worker started')).toEqual([]);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
