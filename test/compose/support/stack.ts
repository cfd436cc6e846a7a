import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

import { Agent, request } from 'undici';

import { freePort } from '../../support/ports';
import { ComposeProject, note } from './docker';

/**
 * What the compose tests share about one deploy/ stack under test: its env file (generated secrets, free loopback
 * ports), Elasticsearch as the elastic user and as a reader, agents' intake requests with unique ids, and the
 * per-event oracle over what was acknowledged.
 */

interface SearchHits {
  hits?: { total?: { value: number }; hits: Array<{ sort?: unknown[]; fields?: Record<string, unknown[]> }> };
}

export class StackUnderTest {
  readonly work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-compose-test-'));
  readonly envFile = path.join(this.work, '.env');
  readonly caFile = path.join(this.work, 'ca.crt');
  readonly secrets = {
    elastic: `el-${randomBytes(12).toString('hex')}`,
    // Characters that break a URL or a Redis config line unless they are encoded and quoted.
    redis: `rd-${randomBytes(8).toString('hex')}@/:%#"\\ !x`,
    token: `tk-${randomBytes(12).toString('hex')}`,
  };
  readonly ports = { apm: 0, es: 0, app: 0 };
  readonly elastic: [string, string] = ['elastic', this.secrets.elastic];
  readonly reader: [string, string] = ['ci_reader', `rd-${randomBytes(12).toString('hex')}`];
  private es: Agent | undefined;

  /** The env file, with free loopback ports (kept on a rewrite); `extra` lines (NAME=value) after the others. */
  async writeEnvFile(extra: string[] = []): Promise<void> {
    if (this.ports.apm === 0) {
      [this.ports.apm, this.ports.es, this.ports.app] = [await freePort(), await freePort(), await freePort()];
    }
    // Single quotes: Compose reads the value literally. Published ports on loopback, on free ports.
    fs.writeFileSync(
      this.envFile,
      [
        `ELASTIC_PASSWORD='${this.secrets.elastic}'`,
        `REDIS_PASSWORD='${this.secrets.redis}'`,
        `APM_SIDECAR_SECRET_TOKEN='${this.secrets.token}'`,
        'APM_BIND=127.0.0.1',
        `APM_PORT=${this.ports.apm}`,
        `ES_PORT=${this.ports.es}`,
        `APP_PORT=${this.ports.app}`,
        'ES_HEAP=512m',
        ...extra,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }

  /** The stack's CA, copied out of the proxy container; Elasticsearch calls trust it from then on. */
  async copyCa(project: ComposeProject): Promise<void> {
    await project.run(['cp', 'proxy:/certs/ca/ca.crt', this.caFile]);
    this.es = new Agent({ connect: { ca: fs.readFileSync(this.caFile, 'utf8') } });
  }

  /** Creates the reader user (role apm_sidecar_reader) that searches and counts run as. */
  async createReader(): Promise<number> {
    const user = await this.esCall('PUT', `/_security/user/${this.reader[0]}`, this.elastic, {
      password: this.reader[1],
      roles: ['apm_sidecar_reader'],
    });
    return user.status;
  }

  async esCall<T>(
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    user: [string, string],
    body?: unknown,
  ): Promise<{ status: number; json: T }> {
    if (this.es === undefined) throw new Error('copyCa first: Elasticsearch is called over TLS with the stack CA');
    const res = await request(`https://127.0.0.1:${this.ports.es}${url}`, {
      method,
      dispatcher: this.es,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
      headers: {
        authorization: `Basic ${Buffer.from(user.join(':')).toString('base64')}`,
        'content-type': 'application/json',
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: (text === '' ? {} : JSON.parse(text)) as T };
  }

  /** Every value of `field` in the documents matching `query`, paged with search_after, as the reader. */
  async allValues(index: string, query: unknown, field: string): Promise<string[]> {
    const values: string[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const body = {
        size: 5000,
        query,
        _source: false,
        docvalue_fields: [field],
        sort: [{ [field]: 'asc' }],
        ...(after ? { search_after: after } : {}),
      };
      const { status, json } = await this.esCall<SearchHits>(
        'POST',
        `/${index}/_search?ignore_unavailable=true&allow_no_indices=true`,
        this.reader,
        body,
      );
      if (status !== 200) throw new Error(`search ${index} as the reader: ${status} ${JSON.stringify(json)}`);
      const hits = json.hits?.hits ?? [];
      for (const hit of hits) values.push(String(hit.fields?.[field]?.[0]));
      if (hits.length < 5000) return values;
      after = hits[hits.length - 1]?.sort;
    }
  }

  async countAsReader(index: string, query: unknown): Promise<number> {
    const { status, json } = await this.esCall<{ count?: number }>(
      'POST',
      `/${index}/_count?ignore_unavailable=true&allow_no_indices=true`,
      this.reader,
      { query },
    );
    // A data stream's first backing index answers 503 (no_shard_available) until its shard is active: not yet.
    if (status === 503) return 0;
    if (status !== 200) throw new Error(`count ${index} as the reader: ${status} ${JSON.stringify(json)}`);
    return json.count ?? 0;
  }

  /**
   * The per-event oracle: waits (up to `timeoutMs`) until at least `accepted.size` transactions of `service` are
   * searchable, then counts, by transaction id, the acknowledged ones missing and the ones indexed twice.
   */
  async oracle(
    service: string,
    accepted: ReadonlySet<string>,
    timeoutMs: number,
  ): Promise<{ missing: number; duplicated: number; sample: string[] }> {
    const byService = { term: { 'service.name': service } };
    const deadline = Date.now() + timeoutMs;
    while ((await this.countAsReader('traces-apm*', byService)) < accepted.size && Date.now() < deadline) {
      await sleep(2000);
    }
    const indexed = await this.allValues('traces-apm*', byService, 'transaction.id');
    const seen = new Map<string, number>();
    for (const id of indexed) seen.set(id, (seen.get(id) ?? 0) + 1);
    const missing = [...accepted].filter((id) => !seen.has(id));
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    return { missing: missing.length, duplicated: duplicated.length, sample: [...missing, ...duplicated].slice(0, 5) };
  }

  /** One intake request of `count` transactions with fresh unique ids; resolves to the status and the ids. */
  postEvents(agent: https.Agent, service: string, count: number): Promise<{ status: number; ids: string[] }> {
    const ids = Array.from({ length: count }, () => randomBytes(8).toString('hex'));
    const lines = [
      JSON.stringify({
        metadata: {
          service: { name: service, agent: { name: 'nodejs', version: '4.18.0' }, language: { name: 'javascript' } },
        },
      }),
      ...ids.map((id) =>
        JSON.stringify({
          transaction: {
            id,
            trace_id: `${id}${id}`,
            name: 'GET /load',
            type: 'request',
            duration: 1.5,
            timestamp: Date.now() * 1000,
            span_count: { started: 0 },
            sampled: true,
          },
        }),
      ),
    ];
    return new Promise((resolve) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: this.ports.apm,
          path: '/intake/v2/events',
          method: 'POST',
          agent,
          timeout: 15_000,
          headers: { authorization: `Bearer ${this.secrets.token}`, 'content-type': 'application/x-ndjson' },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, ids }));
          res.on('error', () => resolve({ status: 0, ids }));
        },
      );
      req.on('error', () => resolve({ status: 0, ids }));
      req.on('timeout', () => req.destroy());
      req.end(`${lines.join('\n')}\n`);
    });
  }

  async close(): Promise<void> {
    await this.es?.close();
    fs.rmSync(this.work, { recursive: true, force: true });
  }
}

/** Sends from `workers` loops until stopped; records every id the proxy acknowledged with 202. */
export class Load {
  readonly accepted = new Set<string>();
  readonly statuses = new Map<number, number>();
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(stack: StackUnderTest, service: string, workers: number, eventsPerRequest: number) {
    const agent = new https.Agent({ keepAlive: true, maxSockets: workers, ca: fs.readFileSync(stack.caFile) });
    this.loops = Array.from({ length: workers }, async () => {
      while (!this.stopped) {
        const { status, ids } = await stack.postEvents(agent, service, eventsPerRequest);
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        if (status === 202) for (const id of ids) this.accepted.add(id);
        await sleep(status === 202 ? 100 : 500);
      }
    });
    void Promise.all(this.loops).finally(() => agent.destroy());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not after ${timeoutMs / 1000} s: ${what}`);
    await sleep(2000);
  }
}

/** Runs a compose step; on failure, the services' last log lines go into the error. */
export async function step<T>(project: ComposeProject, name: string, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  note(`${name} ...`);
  try {
    const result = await body();
    note(`${name} done in ${Math.round((Date.now() - started) / 1000)} s`);
    return result;
  } catch (err) {
    const logs = await project.logTail().catch((e: unknown) => String(e));
    throw new Error(
      `${name} failed after ${Math.round((Date.now() - started) / 1000)} s: ${err instanceof Error ? err.message : String(err)}\n--- compose ps and logs\n${logs.slice(-20_000)}`,
    );
  }
}

/** Asserts each service has `count` running and healthy containers and each one-shot exited 0. */
export async function expectHealthy(
  project: ComposeProject,
  services: Record<string, number>,
  oneShots: string[],
): Promise<void> {
  const containers = await project.containers();
  for (const [service, count] of Object.entries(services)) {
    const mine = containers.filter((c) => c.Service === service);
    expect({ service, states: mine.map((c) => `${c.State}/${c.Health}`) }).toEqual({
      service,
      states: Array<string>(count).fill('running/healthy'),
    });
  }
  for (const service of oneShots) {
    const mine = containers.filter((c) => c.Service === service);
    expect({ service, states: mine.map((c) => `${c.State}/${c.ExitCode}`) }).toEqual({ service, states: ['exited/0'] });
  }
}
