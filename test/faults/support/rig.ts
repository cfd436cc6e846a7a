import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

import { Queue } from 'bullmq';
import { type Cluster, Redis } from 'ioredis';

import { partitionsOf } from '../../../queue/partitions';
import { cliPath, CliProcess, forwarderProcessConfig } from '../../e2e/forwarder/processes';
import {
  createWriter,
  errorLine,
  mergeDeep,
  metadataLine,
  transactionLine,
  type Writer,
} from '../../integration/forwarder/support';
import { testPki } from '../../support/certs';
import { EsStandin } from '../../support/es-standin/server';
import { DeliveryOracle } from '../../support/oracle';
import { freePort, waitForPort } from '../../support/ports';
import { RedisServer, type RedisServerOptions } from '../../support/redis';

/**
 * One fault scenario's world: a real redis-server, the Elasticsearch stand-in (in process), spawned proxies and
 * forwarders of the built CLI, agent-like load whose 202s feed the oracle, and the index to check it against.
 * Every scenario file makes one rig, drives its fault, then `settle()`s and records its figures.
 */
export const rigToken = 'fault-suite-token';

export interface RigOptions {
  readonly redis?: RedisServerOptions;
  /** Config over the proxy defaults (TLS, token, queue name, redis url). */
  readonly proxy?: Record<string, unknown>;
  /** Config over the forwarder defaults (the stand-in as output, fast backoff). */
  readonly forwarder?: Record<string, unknown>;
  /**
   * A Redis set the scenario runs itself (Sentinel, Cluster): its `queue.redis` config section and a client of
   * it. Then the rig starts no redis-server of its own and `rig.redis` is not there.
   */
  readonly queueRedis?: { readonly config: Record<string, unknown>; readonly connect: () => Redis | Cluster };
  /** queue.partitions for every process of the rig (default 1: the single queue). */
  readonly partitions?: number;
}

export interface LoadOptions {
  readonly senders?: number;
  readonly eventsPerRequest?: number;
  /** Pause after each answered request, ms (default 0: as fast as answers come). */
  readonly pauseMs?: number;
  /** Extra padding per event, bytes (large requests); random hex, so gzip cannot shrink it much. */
  readonly padBytes?: number;
  /** Make the last event of each request an error (logs-apm.error-*) instead of a transaction. */
  readonly withError?: boolean;
}

export interface LoadFigures {
  readonly requests: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

export class FaultRig {
  readonly oracle = new DeliveryOracle();
  readonly queueName = `faults-${randomUUID()}`;
  readonly processes: CliProcess[] = [];
  proxyPort = 0;
  private seq = 0;
  private readonly ca: Buffer;

  private constructor(
    private readonly ownRedis: RedisServer | undefined,
    readonly standin: EsStandin,
    readonly writer: Writer,
    private readonly options: RigOptions,
  ) {
    this.ca = fs.readFileSync(testPki().caFile);
  }

  static async start(options: RigOptions = {}): Promise<FaultRig> {
    const redis = options.queueRedis === undefined ? await RedisServer.start(options.redis ?? {}) : undefined;
    const standin = await EsStandin.start();
    const writer = await createWriter(standin);
    return new FaultRig(redis, standin, writer, options);
  }

  /** The rig's own redis-server (absent when the scenario brought its own set with `queueRedis`). */
  get redis(): RedisServer {
    if (this.ownRedis === undefined) throw new Error('this rig runs on the queueRedis the scenario gave it');
    return this.ownRedis;
  }

  /** The `queue.redis` section every process of the rig gets. */
  private redisSection(): Record<string, unknown> {
    return this.options.queueRedis?.config ?? { url: this.redis.url };
  }

  /** The `queue` section every process of the rig gets: Redis, queue name and partitions. */
  private queueSection(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      redis: { ...this.redisSection(), ...extra },
      name: this.queueName,
      ...(this.options.partitions === undefined ? {} : { partitions: this.options.partitions }),
    };
  }

  proxyConfig(port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const pki = testPki();
    return mergeDeep(
      mergeDeep(
        {
          server: {
            host: `127.0.0.1:${port}`,
            auth: { secret_tokens: [rigToken] },
            ssl: { certificate: pki.serverCertFile, key: pki.serverKeyFile },
          },
          queue: this.queueSection({ command_timeout: '2s' }),
          log: { level: 'warn' },
        },
        this.options.proxy ?? {},
      ),
      extra,
    );
  }

  /** Starts a proxy (the first one's port is what load goes to). */
  async startProxy(name = 'proxy', extra: Record<string, unknown> = {}): Promise<CliProcess> {
    const port = await freePort();
    const proxy = await CliProcess.start(name, 'proxy', this.proxyConfig(port, extra));
    this.processes.push(proxy);
    await waitForPort(port);
    if (this.proxyPort === 0) this.proxyPort = port;
    return proxy;
  }

  async startForwarder(name: string, extra: Record<string, unknown> = {}): Promise<CliProcess> {
    const config = forwarderProcessConfig(
      '',
      this.queueName,
      { url: this.standin.url, caFile: this.standin.caFile, ...this.writer },
      mergeDeep(mergeDeep({ log: { level: 'warn' }, queue: this.queueSection() }, this.options.forwarder ?? {}), extra),
    );
    const forwarder = await CliProcess.start(name, 'forwarder', config);
    this.processes.push(forwarder);
    return forwarder;
  }

  /** One agent request of `events` transactions (the last an error with `withError`); its ids go to the oracle on a 202. */
  async send(events: number, padBytes = 0, withError = false, port = this.proxyPort): Promise<number> {
    const first = this.seq;
    this.seq += events;
    const pad = (): Record<string, unknown> =>
      padBytes > 0 ? { context: { custom: { pad: randomBytes(Math.ceil(padBytes / 2)).toString('hex') } } } : {};
    const lines = Array.from({ length: events }, (_, i) =>
      withError && i === events - 1 ? errorLine(first + i) : transactionLine(first + i, pad()),
    );
    const status = await post(port, this.ca, `${[metadataLine, ...lines].join('\n')}\n`);
    if (status === 202)
      this.oracle.acknowledge(
        Array.from({ length: events }, (_, i) =>
          withError && i === events - 1 ? errorId(first + i) : eventId(first + i),
        ),
      );
    return status;
  }

  /** Runs a one-shot CLI command (e.g. `dlq replay`) with the forwarders' config; resolves with its stdout. */
  async cli(args: readonly string[], extra: Record<string, unknown> = {}): Promise<string> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-fault-cli-'));
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify(mergeDeep({ queue: this.queueSection(), log: { level: 'warn' } }, extra)));
    try {
      return await new Promise((resolve, reject) => {
        execFile(
          process.execPath,
          [cliPath, ...args, '--config', file],
          { env: { PATH: process.env.PATH, HOME: process.env.HOME } },
          (err, stdout, stderr) => {
            if (err !== null) reject(new Error(`apm-sidecar ${args.join(' ')} failed: ${err.message}\n${stderr}`));
            else resolve(stdout);
          },
        );
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Agent-like load until `stop()` is called: each sender posts, waits for the answer, posts again. */
  load(options: LoadOptions = {}): { stop: () => Promise<LoadFigures> } {
    let running = true;
    const byStatus: Record<string, number> = {};
    let requests = 0;
    const sender = async (): Promise<void> => {
      while (running) {
        const status = await this.send(
          options.eventsPerRequest ?? 50,
          options.padBytes ?? 0,
          options.withError ?? false,
        );
        requests++;
        byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
        // An agent backs off after a refusal; a short pause keeps a refused sender from spinning.
        const pause = status === 202 ? (options.pauseMs ?? 0) : 200;
        if (pause > 0) await sleep(pause);
      }
    };
    const all = Promise.all(Array.from({ length: options.senders ?? 4 }, () => sender()));
    return {
      stop: async () => {
        running = false;
        await all;
        return { requests, byStatus };
      },
    };
  }

  /** The transaction and error ids in the index, one per document (a doubled event appears twice). */
  indexedIds(): string[] {
    const ids: string[] = [];
    for (const [pattern, field] of [
      ['traces-apm*', 'transaction'],
      ['logs-apm.error*', 'error'],
    ] as const) {
      for (const index of this.standin.store.resolve(pattern, true)) {
        for (const doc of index.docs.values()) {
          const event = doc.source[field];
          if (event !== null && typeof event === 'object' && 'id' in event && typeof event.id === 'string')
            ids.push(event.id);
        }
      }
    }
    return ids;
  }

  /** Documents indexed per second while `during` runs. */
  async rateDuring(during: () => Promise<void>): Promise<number> {
    const before = this.standin.counters.documentsStored;
    const started = Date.now();
    await during();
    return (this.standin.counters.documentsStored - before) / Math.max((Date.now() - started) / 1000, 0.001);
  }

  /** Job counts of the queue (summed over its partitions), read over a connection of its own. */
  async queueCounts(): Promise<Record<string, number>> {
    const connection = this.options.queueRedis?.connect() ?? new Redis(this.redis.url, { maxRetriesPerRequest: null });
    const queues = partitionsOf(this.queueName, this.options.partitions ?? 1).map(
      (p) => new Queue(p.queueName, { connection }),
    );
    try {
      const totals: Record<string, number> = {};
      for (const queue of queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
        for (const [state, n] of Object.entries(counts)) totals[state] = (totals[state] ?? 0) + n;
      }
      return totals;
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      connection.disconnect();
    }
  }

  /** Error-level log lines of every process, minus the expected ones. */
  unexpectedErrors(expected: readonly RegExp[] = []): string[] {
    return this.processes.flatMap((p) =>
      p
        .errors()
        .filter((l) => !expected.some((re) => re.test(String(l.msg ?? ''))))
        .map((l) => `${p.name}: ${JSON.stringify(l)}`),
    );
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.processes.map((p) => p.destroy()));
    await this.standin.close();
    await this.ownRedis?.destroy();
  }
}

/** The id the oracle tracks for the `seq`th event: its transaction.id. */
export function eventId(seq: number): string {
  return seq.toString(16).padStart(16, '0');
}

/** The id of an error event sent as the `seq`th event. */
export function errorId(seq: number): string {
  return seq.toString(16).padStart(32, '0');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function post(port: number, ca: Buffer, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/intake/v2/events',
        method: 'POST',
        ca,
        agent: false,
        timeout: 15_000,
        headers: { authorization: `Bearer ${rigToken}`, 'content-type': 'application/x-ndjson' },
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
