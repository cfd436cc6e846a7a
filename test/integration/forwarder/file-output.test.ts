import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { documentId } from '../../../forwarder/document-id';
import { startForwarder } from '../../../forwarder/forwarder';
import { oldestWaitingAgeSeconds } from '../../../forwarder/queue-metrics';
import { LogSink } from '../../support/log-sink';
import { RedisServer } from '../../support/redis';
import { enqueue, errorLine, forwarderConfig, intakeJob, transactionLine, waitFor } from './support';

describe('forwarder without Elasticsearch hosts (ndjson files) and queue metrics', () => {
  let redis: RedisServer;
  let dataDir: string;
  let connection: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-files-'));
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    connection.disconnect();
    await redis.destroy();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the documents as bulk-format ndjson under path.data/documents, rotated by output.file.rotate_bytes', async () => {
    const queueName = `q-${randomUUID()}`;
    const queue = new Queue(queueName, { connection });
    const jobs = Array.from({ length: 5 }, (_, j) => intakeJob([transactionLine(j * 2), errorLine(j * 2 + 1)]));
    for (const job of jobs) await enqueue(queue, job);
    const logs = new LogSink();
    const config = forwarderConfig(redis.url, queueName, undefined, {
      path: { data: dataDir },
      output: { file: { rotate_bytes: 2000 }, elasticsearch: { flush_bytes: 2000 } },
    });
    const forwarder = await startForwarder(config, logs.logger('forwarder'));
    await waitFor('jobs completed', async () => (await queue.getJobCounts('completed')).completed === jobs.length);
    await forwarder.close();
    const files = fs.readdirSync(path.join(dataDir, 'documents'));
    expect(files.length).toBeGreaterThan(1);
    const lines = files.flatMap((f) =>
      fs
        .readFileSync(path.join(dataDir, 'documents', f), 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    const actions = lines
      .filter((_, i) => i % 2 === 0)
      .map((l) => JSON.parse(l) as { create: { _index: string; _id: string } });
    expect(actions.map((a) => a.create._id).sort()).toEqual(
      jobs.flatMap((j) => [documentId(j.requestId, 0), documentId(j.requestId, 1)]).sort(),
    );
    expect(new Set(actions.map((a) => a.create._index))).toEqual(
      new Set(['traces-apm-default', 'logs-apm.error-default']),
    );
    await queue.close();
    logs.assertNoUnexpectedErrors();
  });

  it('reports the age of the oldest waiting job, for autoscaling', async () => {
    const queue = new Queue(`q-${randomUUID()}`, { connection });
    expect(await oldestWaitingAgeSeconds(queue)).toBe(0);
    await enqueue(queue, intakeJob([transactionLine(1)]));
    const firstAdded = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    await enqueue(queue, intakeJob([transactionLine(2)]));
    const now = Date.now() + 10_000;
    const age = await oldestWaitingAgeSeconds(queue, now);
    expect(age).toBeGreaterThanOrEqual((now - firstAdded) / 1000 - 0.001);
    await queue.obliterate({ force: true });
    await queue.close();
  });
});
