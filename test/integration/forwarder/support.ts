import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { loadConfig } from '../../../config/load';
import type { SidecarConfig } from '../../../config/schema';
import { isRecord } from '../../../core/parse';
import { writerRole, writerRoleName } from '../../../elasticsearch/setup/roles';
import { apmComponentTemplates, apmIndexTemplates } from '../../../elasticsearch/setup/templates';
import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { type IntakeJobData, intakeJobName, jobSchemaVersion } from '../../../queue/contract';
import type { DeadLetterEntry } from '../../../queue/dead-letter';
import { intakeJobOptions } from '../../../queue/job-options';
import { decodeOtlpRequest } from '../../../queue/otlp/decode';
import { countItems, type OtlpSignal } from '../../../queue/otlp/model';
import { partitionsOf } from '../../../queue/partitions';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { RedisServer } from '../../support/redis';

/** Helpers shared by the forwarder's integration and end-to-end tests. */

export const metadataLine = JSON.stringify({
  metadata: {
    service: { name: 'conservation', agent: { name: 'nodejs', version: '4.18.0' }, language: { name: 'javascript' } },
  },
});

/** A valid intake transaction line; `seq` makes it unique and findable. */
export function transactionLine(seq: number, extra: Record<string, unknown> = {}): string {
  const id = seq.toString(16).padStart(16, '0');
  return JSON.stringify({
    transaction: {
      id,
      trace_id: `${id}${id}`,
      name: `GET /t/${seq}`,
      type: 'request',
      duration: 1.5,
      timestamp: 1_700_000_000_000_000 + seq,
      span_count: { started: 0 },
      sampled: true,
      ...extra,
    },
  });
}

export function errorLine(seq: number): string {
  const id = seq.toString(16).padStart(32, '0');
  return JSON.stringify({
    error: { id, timestamp: 1_700_000_000_000_000 + seq, exception: { message: `boom ${seq}`, type: 'Error' } },
  });
}

/** A job as the proxy enqueues it: `raw` gzipped and base64-encoded. */
function gzipJob(
  raw: Buffer,
  requestId: string,
  events: number,
  sender: Pick<IntakeJobData, 'identity' | 'client'>,
): IntakeJobData {
  const body = zlib.gzipSync(raw).toString('base64');
  return {
    v: jobSchemaVersion,
    requestId,
    receivedAt: Date.now(),
    ...sender,
    encoding: 'gzip',
    body,
    events,
    rawBytes: raw.length,
  };
}

/** The job the proxy would enqueue for one request carrying `events`. */
export function intakeJob(events: readonly string[], requestId: string = randomUUID()): IntakeJobData {
  const raw = Buffer.from(`${[metadataLine, ...events].join('\n')}\n`);
  return gzipJob(raw, requestId, events.length, {
    identity: { kind: 'secret_token', id: '0' },
    client: { ip: '127.0.0.1', userAgent: 'test' },
  });
}

/** The job the proxy would enqueue for one OTLP/JSON request of the golden fixtures (test/unit/forwarder/otlp). */
export function otlpJob(
  signal: OtlpSignal,
  requestId: string = randomUUID(),
  edit?: (request: Record<string, unknown>) => void,
): IntakeJobData {
  const file = fs.readFileSync(
    path.join(__dirname, '..', '..', 'unit', 'forwarder', 'otlp', 'fixtures', `${signal}.json`),
  );
  let raw = file;
  if (edit !== undefined) {
    const request = JSON.parse(file.toString('utf8')) as Record<string, unknown>;
    edit(request);
    raw = Buffer.from(JSON.stringify(request));
  }
  const job = gzipJob(raw, requestId, countItems(decodeOtlpRequest(signal, 'json', raw)).items, {
    identity: { kind: 'secret_token', id: 'token-test' },
    client: { ip: '127.0.0.1', userAgent: 'OTel-OTLP-Exporter-JavaScript/0.223.1' },
  });
  return { ...job, otlp: { signal, format: 'json' } };
}

/** Enqueues as the proxy does: job name, options and job id from the shared queue modules. */
export async function enqueue(queue: Queue, data: IntakeJobData): Promise<void> {
  await queue.add(intakeJobName, data, intakeJobOptions(data.requestId, 1000));
}

export function superuser(standin: EsStandin): Client {
  return new Client({
    node: standin.url,
    auth: { username: 'elastic', password: standin.elasticPassword },
    tls: { ca: fs.readFileSync(standin.caFile, 'utf8') },
  });
}

export interface Writer {
  readonly username: string;
  readonly password: string;
}

/**
 * The component and index templates `apm-sidecar setup` installs: needed where documents name a dynamic template
 * (histogram and summary metrics), which Elasticsearch, and the stand-in, refuse without it.
 */
export async function installSetupTemplates(standin: EsStandin): Promise<void> {
  const admin = superuser(standin);
  for (const c of apmComponentTemplates()) await admin.cluster.putComponentTemplate({ name: c.name, ...c.body });
  for (const t of apmIndexTemplates()) await admin.indices.putIndexTemplate({ name: t.name, ...t.body });
  await admin.close();
}

/** Creates the writer role and a user holding it, as `apm-sidecar setup` would. */
export async function createWriter(
  standin: EsStandin,
  username = 'apm_writer',
  password = 'writer-secret',
): Promise<Writer> {
  const admin = superuser(standin);
  await admin.security.putRole({
    name: writerRoleName,
    cluster: [...writerRole.cluster],
    indices: writerRole.indices.map((i) => ({ names: [...i.names], privileges: [...i.privileges] })),
  });
  await admin.security.putUser({ username, password, roles: [writerRoleName] });
  await admin.close();
  return { username, password };
}

export function forwarderConfig(
  redisUrl: string,
  queueName: string,
  es: { standin: EsStandin; writer: Writer } | undefined,
  overrides: Record<string, unknown> = {},
): SidecarConfig {
  const output =
    es === undefined
      ? {}
      : {
          hosts: [es.standin.url],
          username: es.writer.username,
          password: es.writer.password,
          ssl: { certificate_authorities: [es.standin.caFile] },
        };
  const base = {
    server: { shutdown_timeout: '3s' },
    admin: { host: '127.0.0.1:0' },
    queue: { redis: { url: redisUrl }, name: queueName },
    output: { elasticsearch: { flush_interval: '50ms', backoff: { init: '20ms', max: '500ms' }, ...output } },
    forwarder: { concurrency: 8 },
    log: { level: 'warn' },
  };
  return loadConfig({ env: {}, overrides: mergeDeep(base, overrides) }).config;
}

export function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isRecord(prev) && isRecord(v) ? mergeDeep(prev, v) : v;
  }
  return out;
}

/** Polls `check` until it returns true; fails with `what` after a generous deadline (never a timing assertion). */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a forwarder integration test runs on; each field is there from the suite's beforeAll / the test's beforeEach. */
export interface ForwarderBed {
  readonly redis: RedisServer;
  /** A worker connection (maxRetriesPerRequest: null, as BullMQ needs), shared by the suite's queues. */
  readonly connection: Redis;
  /** The Elasticsearch stand-in with the writer user of `createWriter` (unless started without it). */
  readonly standin: EsStandin;
  readonly writer: Writer;
  /** This test's queue name (its partitions' names derive from it); random. */
  readonly queueName: string;
  /** This test's queue (its first partition's with `partitions`), obliterated after the test. */
  readonly queue: Queue;
  /** One queue per partition of this test's queue name (`partitions`, 1 unless said): the first is `queue`. */
  readonly partitionQueues: readonly Queue[];
  /** This test's log sink. */
  readonly logs: LogSink;
  /** forwarderConfig for this test's queue (or `queueName`) and the stand-in's writer (or `writer`); `partitions` set. */
  config(overrides?: Record<string, unknown>, options?: { queueName?: string; writer?: Writer }): SidecarConfig;
  /** A forwarder on that config, logging to this test's sink (at `logLevel`, debug unless said); closed after the test. */
  start(
    overrides?: Record<string, unknown>,
    options?: { queueName?: string; writer?: Writer; logLevel?: string },
  ): Promise<Forwarder>;
}

/**
 * The set-up the forwarder integration tests share, as jest hooks: one redis-server (and stand-in) for the suite,
 * a fresh queue and log sink per test; after each test its forwarders are closed and its queue removed (and, with
 * `assertLogs`, any unexpected error-level line fails it); after the suite everything is stopped.
 */
export function forwarderBed(
  options: { readonly standin?: boolean; readonly assertLogs?: boolean; readonly partitions?: number } = {},
): ForwarderBed {
  let suite: { redis: RedisServer; connection: Redis; es?: { standin: EsStandin; writer: Writer } } | undefined;
  let test:
    { name: string; queue: Queue; partitionQueues: Queue[]; logs: LogSink; forwarders: Forwarder[] } | undefined;
  const partitions = options.partitions ?? 1;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`forwarderBed: no ${what} here (outside a test, or started without it)`);
    return value;
  };
  beforeAll(async () => {
    const redis = await RedisServer.start();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    if (options.standin === false) suite = { redis, connection };
    else {
      const standin = await EsStandin.start();
      suite = { redis, connection, es: { standin, writer: await createWriter(standin) } };
    }
  });
  afterAll(async () => {
    suite?.connection.disconnect();
    await suite?.es?.standin.close();
    await suite?.redis.destroy();
  });
  beforeEach(() => {
    const connection = started(suite, 'redis').connection;
    const name = `q-${randomUUID()}`;
    const [queue, ...others] = partitionsOf(name, partitions).map((p) => new Queue(p.queueName, { connection }));
    if (queue === undefined) throw new Error('forwarderBed: partitions must be 1 or more');
    test = { name, queue, partitionQueues: [queue, ...others], logs: new LogSink(), forwarders: [] };
  });
  afterEach(async () => {
    const current = started(test, 'test');
    for (const f of current.forwarders.reverse()) await f.close();
    for (const queue of current.partitionQueues) {
      await queue.obliterate({ force: true });
      await queue.close();
    }
    if (options.assertLogs === true) current.logs.assertNoUnexpectedErrors();
  });
  const bed: ForwarderBed = {
    get redis() {
      return started(suite, 'redis').redis;
    },
    get connection() {
      return started(suite, 'redis').connection;
    },
    get standin() {
      return started(suite?.es, 'stand-in').standin;
    },
    get writer() {
      return started(suite?.es, 'stand-in').writer;
    },
    get queue() {
      return started(test, 'test').queue;
    },
    get queueName() {
      return started(test, 'test').name;
    },
    get partitionQueues() {
      return started(test, 'test').partitionQueues;
    },
    get logs() {
      return started(test, 'test').logs;
    },
    config(overrides = {}, { queueName, writer } = {}) {
      const es = suite?.es === undefined ? undefined : { standin: suite.es.standin, writer: writer ?? suite.es.writer };
      const name = queueName ?? started(test, 'test').name;
      const withPartitions = partitions === 1 ? overrides : mergeDeep({ queue: { partitions } }, overrides);
      return forwarderConfig(bed.redis.url, name, es, withPartitions);
    },
    async start(overrides = {}, { logLevel, ...configOptions } = {}) {
      const logger = bed.logs.logger('forwarder', logLevel);
      const forwarder = await startForwarder(bed.config(overrides, configOptions), logger);
      started(test, 'test').forwarders.push(forwarder);
      return forwarder;
    },
  };
  return bed;
}

/** A dead-letter entry of document `n` (for filling a dead-letter queue). */
export function deadLetterEntry(n: number, reason = 'document_parsing_exception'): DeadLetterEntry {
  return {
    id: `e.${n}`,
    jobId: 'j',
    lineIndex: n,
    dataStream: 'logs-apm.error-default',
    reason,
    status: 400,
    message: 'm',
    attempts: 1,
    deadLetteredAt: Date.now(),
    metadata: '{"metadata":{}}',
    event: '{"error":{}}',
    context: { receivedAt: 0, client: { ip: '127.0.0.1', userAgent: null }, identity: { kind: 'anonymous' } },
  };
}
