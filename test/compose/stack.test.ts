import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

import { Agent, request } from 'undici';

import { runAgentApp } from '../e2e/agent-app';
import { freePort } from '../support/ports';
import { ComposeProject, note, run } from './support/docker';

/**
 * The real deploy/docker-compose.yml and deploy/sidecar/docker-compose.yml on a real Docker Engine with Compose v2,
 * from nothing to nothing: `up --wait` healthy, the real Node agent through the published port over TLS, documents
 * searchable as the reader, `--scale forwarder=3`, a forwarder SIGKILLed and Redis restarted under load with every
 * 202'd event indexed exactly once, the sidecar example, `down -v` leaving nothing. Secrets are checked to stay out
 * of `docker inspect` and process arguments. Only test/compose/ci.override.yml differs from what users run (the
 * ulimits this host cannot grant). Run by .ci/stages/20-compose.sh (images and Compose built there).
 */

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-compose-test-'));
const envFile = path.join(work, '.env');
const main = new ComposeProject('apm-sidecar', ['deploy/docker-compose.yml', 'test/compose/ci.override.yml'], envFile);
const sidecar = new ComposeProject('apm-sidecar-example', ['deploy/sidecar/docker-compose.yml'], envFile);

const secrets = {
  elastic: `el-${randomBytes(12).toString('hex')}`,
  // Characters that break a URL or a Redis config line unless they are encoded and quoted.
  redis: `rd-${randomBytes(8).toString('hex')}@/:%#"\\ !x`,
  token: `tk-${randomBytes(12).toString('hex')}`,
};
const ports = { apm: 0, es: 0, app: 0 };
let caFile = '';
let es: Agent;

async function esCall<T>(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  user: [string, string],
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await request(`https://127.0.0.1:${ports.es}${url}`, {
    method,
    dispatcher: es,
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

const elastic: [string, string] = ['elastic', secrets.elastic];
const reader: [string, string] = ['ci_reader', `rd-${randomBytes(12).toString('hex')}`];

interface SearchHits {
  hits?: { total?: { value: number }; hits: Array<{ sort?: unknown[]; fields?: Record<string, unknown[]> }> };
}

/** Every value of `field` in the documents matching `query`, paged with search_after. */
async function allValues(index: string, query: unknown, field: string): Promise<string[]> {
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
    const { status, json } = await esCall<SearchHits>(
      'POST',
      `/${index}/_search?ignore_unavailable=true&allow_no_indices=true`,
      reader,
      body,
    );
    if (status !== 200) throw new Error(`search ${index} as the reader: ${status} ${JSON.stringify(json)}`);
    const hits = json.hits?.hits ?? [];
    for (const hit of hits) values.push(String(hit.fields?.[field]?.[0]));
    if (hits.length < 5000) return values;
    after = hits[hits.length - 1]?.sort;
  }
}

async function countAsReader(index: string, query: unknown): Promise<number> {
  const { status, json } = await esCall<{ count?: number }>(
    'POST',
    `/${index}/_count?ignore_unavailable=true&allow_no_indices=true`,
    reader,
    { query },
  );
  // A data stream's first backing index answers 503 (no_shard_available) until its shard is active: not yet.
  if (status === 503) return 0;
  if (status !== 200) throw new Error(`count ${index} as the reader: ${status} ${JSON.stringify(json)}`);
  return json.count ?? 0;
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not after ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** Runs a compose step; on failure, the services' last log lines go into the error. */
async function step<T>(project: ComposeProject, name: string, body: () => Promise<T>): Promise<T> {
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

async function expectHealthy(services: Record<string, number>, oneShots: string[]): Promise<void> {
  const containers = await main.containers();
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

/** One intake request of `count` transactions with fresh unique ids; resolves to the status and the ids. */
function postEvents(agent: https.Agent, service: string, count: number): Promise<{ status: number; ids: string[] }> {
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
        port: ports.apm,
        path: '/intake/v2/events',
        method: 'POST',
        agent,
        timeout: 15_000,
        headers: { authorization: `Bearer ${secrets.token}`, 'content-type': 'application/x-ndjson' },
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

/** Sends from `workers` loops until stopped; records every id the proxy acknowledged with 202. */
class Load {
  readonly accepted = new Set<string>();
  readonly statuses = new Map<number, number>();
  private stopped = false;
  private readonly loops: Promise<void>[];

  constructor(service: string, workers: number, eventsPerRequest: number) {
    const agent = new https.Agent({ keepAlive: true, maxSockets: workers, ca: fs.readFileSync(caFile) });
    this.loops = Array.from({ length: workers }, async () => {
      while (!this.stopped) {
        const { status, ids } = await postEvents(agent, service, eventsPerRequest);
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        if (status === 202) for (const id of ids) this.accepted.add(id);
        await new Promise((r) => setTimeout(r, status === 202 ? 100 : 500));
      }
    });
    void Promise.all(this.loops).finally(() => agent.destroy());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

async function writeEnvFile(): Promise<void> {
  [ports.apm, ports.es, ports.app] = [await freePort(), await freePort(), await freePort()];
  // Single quotes: Compose reads the value literally. Published ports on loopback, on free ports.
  fs.writeFileSync(
    envFile,
    [
      `ELASTIC_PASSWORD='${secrets.elastic}'`,
      `REDIS_PASSWORD='${secrets.redis}'`,
      `APM_SIDECAR_SECRET_TOKEN='${secrets.token}'`,
      'APM_BIND=127.0.0.1',
      `APM_PORT=${ports.apm}`,
      `ES_PORT=${ports.es}`,
      `APP_PORT=${ports.app}`,
      'ES_HEAP=512m',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}

describe('deploy/ compose files on a real Docker Engine (Compose v2)', () => {
  beforeAll(async () => {
    await writeEnvFile();
    // A previous, interrupted run may have left its stacks: start from nothing.
    await sidecar.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    await main.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    expect(await main.leftovers()).toEqual([]);
  }, 400_000);

  afterAll(async () => {
    await es?.close();
    await sidecar.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    await main.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    fs.rmSync(work, { recursive: true, force: true });
  }, 400_000);

  it('comes up healthy from nothing with `up --wait`, building the apm-sidecar image once', async () => {
    const up = await step(main, 'up --build --wait', () =>
      main.run(['up', '-d', '--build', '--wait', '--wait-timeout', '600'], { timeoutMs: 900_000 }),
    );
    const output = `${up.stdout}\n${up.stderr}`;
    expect(output.match(/naming to docker\.io\/library\/apm-sidecar:/g)?.length).toBe(1);
    await expectHealthy({ redis: 1, elasticsearch: 1, proxy: 1, forwarder: 2 }, ['secrets', 'certs', 'setup']);
    caFile = path.join(work, 'ca.crt');
    await main.run(['cp', 'proxy:/certs/ca/ca.crt', caFile]);
    es = new Agent({ connect: { ca: fs.readFileSync(caFile, 'utf8') } });
  }, 900_000);

  it('keeps every secret out of `docker inspect` and out of every process argument', async () => {
    const forms = [...Object.values(secrets), encodeURIComponent(secrets.redis)];
    const ids = (await run('docker', ['ps', '-aq', '--filter', 'label=com.docker.compose.project=apm-sidecar'])).stdout
      .split('\n')
      .filter(Boolean);
    expect(ids.length).toBeGreaterThanOrEqual(8);
    const inspect = (await run('docker', ['inspect', ...ids])).stdout;
    expect(forms.filter((s) => inspect.includes(s))).toEqual([]);
    for (const c of await main.containers()) {
      if (c.State !== 'running') continue;
      const top = (await run('docker', ['top', c.Name, '-eo', 'pid,args'])).stdout;
      expect({ container: c.Name, leaked: forms.filter((s) => top.includes(s)) }).toEqual({
        container: c.Name,
        leaked: [],
      });
    }
  });

  it('takes the real Node agent through the published port over TLS, documents searchable as the reader', async () => {
    await step(main, 'agent through the proxy', async () => {
      const user = await esCall('PUT', `/_security/user/${reader[0]}`, elastic, {
        password: reader[1],
        roles: ['apm_sidecar_reader'],
      });
      expect(user.status).toBe(200);
      await runAgentApp(`https://127.0.0.1:${ports.apm}`, secrets.token, caFile);
      const byService = { term: { 'service.name': 'e2e-svc' } };
      await waitUntil(
        'the agent transaction, span and error searchable as the reader',
        120_000,
        async () =>
          (await countAsReader('traces-apm*', byService)) >= 2 &&
          (await countAsReader('logs-apm.error*', byService)) >= 1,
      );
      const names = await allValues(
        'traces-apm*',
        { bool: { filter: [byService, { exists: { field: 'transaction.name' } }] } },
        'transaction.name',
      );
      expect(names).toContain('GET /e2e');
      // The writer's documents, not the reader's privileges, are what the reader cannot change.
      const write = await esCall('POST', '/traces-apm-default/_doc', reader, {
        '@timestamp': new Date().toISOString(),
      });
      expect(write.status).toBe(403);
    });
  }, 300_000);

  it('scales to three forwarders', async () => {
    await step(main, 'up --scale forwarder=3', () =>
      main.run(['up', '-d', '--wait', '--wait-timeout', '300', '--scale', 'forwarder=3'], { timeoutMs: 400_000 }),
    );
    await expectHealthy({ forwarder: 3, proxy: 1, redis: 1 }, []);
  }, 450_000);

  it('indexes every 202-acknowledged event exactly once across a killed forwarder and a Redis restart under load', async () => {
    const service = `compose-load-${randomBytes(4).toString('hex')}`;
    const load = new Load(service, 4, 10);
    try {
      await new Promise((r) => setTimeout(r, 5000));
      const victim = (await main.containers()).find((c) => c.Service === 'forwarder' && c.State === 'running');
      if (victim === undefined) throw new Error('no running forwarder to kill');
      note(`docker kill ${victim.Name} (SIGKILL, mid-work)`);
      await run('docker', ['kill', victim.Name]);
      await new Promise((r) => setTimeout(r, 5000));
      await step(main, 'restart redis under load', () => main.run(['restart', 'redis'], { timeoutMs: 120_000 }));
      await waitUntil('redis healthy again', 120_000, async () =>
        (await main.containers()).some((c) => c.Service === 'redis' && c.Health === 'healthy'),
      );
      await new Promise((r) => setTimeout(r, 10_000));
    } finally {
      await load.stop();
    }
    note(
      `load: ${load.accepted.size} events acknowledged; statuses ${JSON.stringify(Object.fromEntries(load.statuses))}`,
    );
    expect(load.accepted.size).toBeGreaterThan(500);
    // The killed forwarder comes back (restart policy or this `up`); the stack is whole again.
    await step(main, 'up --wait after the faults', () =>
      main.run(['up', '-d', '--wait', '--wait-timeout', '300', '--scale', 'forwarder=3'], { timeoutMs: 400_000 }),
    );
    await expectHealthy({ forwarder: 3, proxy: 1, redis: 1, elasticsearch: 1 }, []);

    const byService = { term: { 'service.name': service } };
    // A SIGKILLed forwarder's jobs come back after the lock expires (30 s) and the stalled check.
    await step(main, 'every acknowledged event indexed', () =>
      waitUntil(
        `${load.accepted.size} acknowledged events indexed`,
        240_000,
        async () => (await countAsReader('traces-apm*', byService)) >= load.accepted.size,
      ),
    );
    const indexed = await allValues('traces-apm*', byService, 'transaction.id');
    const seen = new Map<string, number>();
    for (const id of indexed) seen.set(id, (seen.get(id) ?? 0) + 1);
    const missing = [...load.accepted].filter((id) => !seen.has(id));
    const duplicated = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect({
      missing: missing.length,
      duplicated: duplicated.length,
      sample: [...missing, ...duplicated].slice(0, 5),
    }).toEqual({ missing: 0, duplicated: 0, sample: [] });
  }, 900_000);

  it('runs the sidecar example beside the stack: up --wait, an agent event through it, down -v', async () => {
    await step(sidecar, 'sidecar up --build --wait', () =>
      sidecar.run(['up', '-d', '--build', '--wait', '--wait-timeout', '300'], { timeoutMs: 600_000 }),
    );
    const res = await request(`http://127.0.0.1:${ports.app}/`, { headersTimeout: 10_000 });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    const byService = { term: { 'service.name': 'sidecar-example' } };
    await step(sidecar, 'sidecar transaction searchable', () =>
      waitUntil(
        'the sidecar app transaction searchable as the reader',
        120_000,
        async () => (await countAsReader('traces-apm*', byService)) >= 1,
      ),
    );
    const inspect = (await run('docker', ['inspect', ...(await sidecar.containers()).map((c) => c.Name)])).stdout;
    expect(Object.values(secrets).filter((s) => inspect.includes(s))).toEqual([]);
    await step(sidecar, 'sidecar down -v', () => sidecar.run(['down', '-v'], { timeoutMs: 180_000 }));
    expect(await sidecar.leftovers()).toEqual([]);
  }, 900_000);

  it('leaves nothing after `down -v`: no container, volume or network', async () => {
    await step(main, 'down -v', () => main.run(['down', '-v'], { timeoutMs: 300_000 }));
    expect(await main.leftovers()).toEqual([]);
  }, 400_000);
});
