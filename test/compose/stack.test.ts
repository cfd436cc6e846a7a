import { randomBytes } from 'node:crypto';

import { request } from 'undici';

import { runAgentApp } from '../e2e/agent-app';
import { ComposeProject, note, run } from './support/docker';
import { expectHealthy, Load, sleep, StackUnderTest, step, waitUntil } from './support/stack';

/**
 * The real deploy/docker-compose.yml and deploy/sidecar/docker-compose.yml on a real Docker Engine with Compose v2,
 * from nothing to nothing: `up --wait` healthy, the real Node agent through the published port over TLS, documents
 * searchable as the reader, `--scale forwarder=3`, a forwarder SIGKILLed and Redis restarted under load with every
 * 202'd event indexed exactly once, the sidecar example, `down -v` leaving nothing. Secrets are checked to stay out
 * of `docker inspect` and process arguments. Only test/compose/ci.override.yml differs from what users run (the
 * ulimits this host cannot grant). Run by .ci/stages/20-compose.sh (images and Compose built there).
 */

const stack = new StackUnderTest();
const { secrets, ports, reader } = stack;
const main = new ComposeProject(
  'apm-sidecar',
  ['deploy/docker-compose.yml', 'test/compose/ci.override.yml'],
  stack.envFile,
);
const sidecar = new ComposeProject('apm-sidecar-example', ['deploy/sidecar/docker-compose.yml'], stack.envFile);

describe('deploy/ compose files on a real Docker Engine (Compose v2)', () => {
  beforeAll(async () => {
    await stack.writeEnvFile();
    // A previous, interrupted run may have left its stacks: start from nothing.
    await sidecar.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    await main.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    expect(await main.leftovers()).toEqual([]);
  }, 400_000);

  afterAll(async () => {
    await sidecar.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    await main.run(['down', '-v', '--remove-orphans'], { allowFailure: true, timeoutMs: 180_000 });
    await stack.close();
  }, 400_000);

  it('comes up healthy from nothing with `up --wait`, building the apm-sidecar image once', async () => {
    const up = await step(main, 'up --build --wait', () =>
      main.run(['up', '-d', '--build', '--wait', '--wait-timeout', '600'], { timeoutMs: 900_000 }),
    );
    const output = `${up.stdout}\n${up.stderr}`;
    expect(output.match(/naming to docker\.io\/library\/apm-sidecar:/g)?.length).toBe(1);
    await expectHealthy(main, { redis: 1, elasticsearch: 1, proxy: 1, forwarder: 2 }, ['secrets', 'certs', 'setup']);
    await stack.copyCa(main);
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
      expect(await stack.createReader()).toBe(200);
      await runAgentApp(`https://127.0.0.1:${ports.apm}`, secrets.token, stack.caFile);
      const byService = { term: { 'service.name': 'e2e-svc' } };
      await waitUntil(
        'the agent transaction, span and error searchable as the reader',
        120_000,
        async () =>
          (await stack.countAsReader('traces-apm*', byService)) >= 2 &&
          (await stack.countAsReader('logs-apm.error*', byService)) >= 1,
      );
      const names = await stack.allValues(
        'traces-apm*',
        { bool: { filter: [byService, { exists: { field: 'transaction.name' } }] } },
        'transaction.name',
      );
      expect(names).toContain('GET /e2e');
      // The writer's documents, not the reader's privileges, are what the reader cannot change.
      const write = await stack.esCall('POST', '/traces-apm-default/_doc', reader, {
        '@timestamp': new Date().toISOString(),
      });
      expect(write.status).toBe(403);
    });
  }, 300_000);

  it('scales to three forwarders', async () => {
    await step(main, 'up --scale forwarder=3', () =>
      main.run(['up', '-d', '--wait', '--wait-timeout', '300', '--scale', 'forwarder=3'], { timeoutMs: 400_000 }),
    );
    await expectHealthy(main, { forwarder: 3, proxy: 1, redis: 1 }, []);
  }, 450_000);

  it('indexes every 202-acknowledged event exactly once across a killed forwarder and a Redis restart under load', async () => {
    const service = `compose-load-${randomBytes(4).toString('hex')}`;
    const load = new Load(stack, service, 4, 10);
    try {
      await sleep(5000);
      const victim = (await main.containers()).find((c) => c.Service === 'forwarder' && c.State === 'running');
      if (victim === undefined) throw new Error('no running forwarder to kill');
      note(`docker kill ${victim.Name} (SIGKILL, mid-work)`);
      await run('docker', ['kill', victim.Name]);
      await sleep(5000);
      await step(main, 'restart redis under load', () => main.run(['restart', 'redis'], { timeoutMs: 120_000 }));
      await waitUntil('redis healthy again', 120_000, async () =>
        (await main.containers()).some((c) => c.Service === 'redis' && c.Health === 'healthy'),
      );
      await sleep(10_000);
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
    await expectHealthy(main, { forwarder: 3, proxy: 1, redis: 1, elasticsearch: 1 }, []);

    // A SIGKILLed forwarder's jobs come back after the lock expires (30 s) and the stalled check.
    const figures = await step(main, 'every acknowledged event indexed', () =>
      stack.oracle(service, load.accepted, 240_000),
    );
    expect(figures).toEqual({ missing: 0, duplicated: 0, sample: [] });
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
        async () => (await stack.countAsReader('traces-apm*', byService)) >= 1,
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
