import { randomUUID } from 'node:crypto';
import net from 'node:net';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { documentId } from '../../../forwarder/document-id';
import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { RedisServer } from '../../support/redis';
import { createWriter, enqueue, forwarderConfig, intakeJob, transactionLine, waitFor, type Writer } from './support';

/**
 * A TCP relay to Redis that, once armed with a job id, swallows the first answer that carries it and cuts every
 * connection: Redis ran the worker's "take the next job" (the job is active and locked with the worker's token)
 * but the answer never arrives, as when Redis dies between the two. The forwarder reconnects through it.
 */
class AnswerCutter {
  private readonly sockets = new Set<net.Socket>();
  private armedFor: string | undefined;
  cuts = 0;

  private constructor(private readonly server: net.Server) {}

  static async start(redisPort: number): Promise<AnswerCutter> {
    const server = net.createServer();
    const cutter = new AnswerCutter(server);
    server.on('connection', (client) => cutter.relay(client, redisPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return cutter;
  }

  get url(): string {
    const address = this.server.address();
    return `redis://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  }

  arm(jobId: string): void {
    this.armedFor = jobId;
  }

  private relay(client: net.Socket, redisPort: number): void {
    const upstream = net.connect(redisPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let tail = '';
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      const text = tail + chunk.toString('latin1');
      const armed = this.armedFor;
      if (armed !== undefined && text.includes(armed)) {
        this.armedFor = undefined;
        this.cuts++;
        for (const s of this.sockets) s.destroy();
        this.sockets.clear();
        return;
      }
      tail = text.slice(-64);
      client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(s);
      });
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/**
 * Issue 13: a job that was being taken when Redis died stayed active ~30-40 s after the restart (until its lock
 * lapsed and the stalled check ran). The forwarder now recognises its own orphaned locks after a reconnection
 * and moves such jobs back to waiting at once.
 */
describe('a job whose "take" answer was lost (real redis-server)', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let writer: Writer;
  let cutter: AnswerCutter;
  let forwarder: Forwarder | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
    writer = await createWriter(standin);
    cutter = await AnswerCutter.start(redis.port);
  });
  afterAll(async () => {
    await forwarder?.close();
    await cutter.close();
    await standin.close();
    await redis.destroy();
  });

  it('is moved back to waiting by the forwarder that took it, right after it reconnects, and delivered', async () => {
    const queueName = `orphan-${randomUUID()}`;
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection });
    const logs = new LogSink();
    forwarder = await startForwarder(
      forwarderConfig(cutter.url, queueName, { standin, writer }, { data_streams: { namespace: 'orphan' } }),
      logs.logger('forwarder', 'info'),
    );
    const warmup = intakeJob([transactionLine(1)]);
    await enqueue(queue, warmup);
    await waitFor('the forwarder delivers', () =>
      standin.documents('traces-apm-orphan').some((d) => d.id === documentId(warmup.requestId, 0)),
    );

    const orphan = intakeJob([transactionLine(2)]);
    cutter.arm(orphan.requestId);
    const enqueued = Date.now();
    await enqueue(queue, orphan);
    await waitFor('the answer carrying the job is cut', () => cutter.cuts === 1);
    await waitFor(
      'the orphaned job is delivered',
      () => standin.documents('traces-apm-orphan').some((d) => d.id === documentId(orphan.requestId, 0)),
      60_000,
    );
    const seconds = (Date.now() - enqueued) / 1000;
    process.stdout.write(`orphaned job delivered ${seconds.toFixed(1)} s after it was queued\n`);
    const reclaimed = logs.lines.filter((l) =>
      String(l.msg).startsWith('moved jobs back to waiting that this forwarder had taken'),
    );
    expect(reclaimed.map((l) => l.jobs)).toEqual([1]);
    logs.assertNoUnexpectedErrors();
    await queue.close();
    connection.disconnect();
  }, 90_000);
});
