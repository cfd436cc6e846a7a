import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import zlib from 'node:zlib';

import { Client } from '@elastic/elasticsearch';
import { Queue } from 'bullmq';

import { loadConfig } from '../../../config/load';
import type { SidecarConfig } from '../../../config/schema';
import { isRecord } from '../../../core/parse';
import { writerRole, writerRoleName } from '../../../elasticsearch/setup/roles';
import { apmComponentTemplates, apmIndexTemplates } from '../../../elasticsearch/setup/templates';
import { type IntakeJobData, intakeJobName, jobSchemaVersion } from '../../../queue/contract';
import { intakeJobOptions } from '../../../queue/job-options';
import type { EsStandin } from '../../support/es-standin/server';

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

/** The job the proxy would enqueue for one request carrying `events`. */
export function intakeJob(events: readonly string[], requestId: string = randomUUID()): IntakeJobData {
  const raw = Buffer.from(`${[metadataLine, ...events].join('\n')}\n`);
  return {
    v: jobSchemaVersion,
    requestId,
    receivedAt: Date.now(),
    identity: { kind: 'secret_token', id: '0' },
    client: { ip: '127.0.0.1', userAgent: 'test' },
    encoding: 'gzip',
    body: zlib.gzipSync(raw).toString('base64'),
    events: events.length,
    rawBytes: raw.length,
  };
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
