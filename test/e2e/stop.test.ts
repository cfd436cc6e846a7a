import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { commandLineOf, parentOf } from '../../cli/start/data-dir-lock';
import { waitForPort } from '../support/ports';
import { eventually } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { childEnv, cliPath, proxyEnv, spawnCli, SpawnedProcess } from '../support/spawn-cli';

const repoRoot = path.resolve(__dirname, '..', '..');
/** Generous bounds: they prove that something ends, never how fast. */
const startBoundMs = 120_000;
const stopBoundMs = 45_000;

function startEnv(dataDir: string): Record<string, string> {
  return {
    APM_SIDECAR_DATA: dataDir,
    APM_SIDECAR_HOST: '127.0.0.1:0',
    APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
    APM_SIDECAR_LOG_LEVEL: 'warn',
  };
}

/** The pids a running start wrote in its data directory: its own and its redis-server's. */
function pidsOf(dataDir: string): { start: number; redis: number } {
  const read = (file: string): number => Number(fs.readFileSync(path.join(dataDir, file), 'utf8').trim());
  return { start: read('start.pid'), redis: read(path.join('redis', 'redis-server.pid')) };
}

/** Alive and not a zombie (a reparented process may wait for a reaper that never comes in a container). */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function allGone(pids: readonly number[], what: string): Promise<void> {
  await eventually(() => (pids.some(running) ? undefined : true), stopBoundMs, what);
}

describe('processes end cleanly', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-stop-'));
  const leftovers: number[] = [];

  afterAll(() => {
    for (const pid of leftovers.filter(running)) process.kill(pid, 'SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('`npm start` execs node, so one SIGTERM to npm stops start and its private redis-server', async () => {
    const dataDir = path.join(tmp, 'npm');
    // detached: npm leads its own process group, as it does in a terminal.
    const npm = new SpawnedProcess(
      spawn('npm', ['start', '--silent'], {
        cwd: repoRoot,
        env: childEnv(startEnv(dataDir)),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
    );
    await npm.waitFor(/Press Ctrl-C/, startBoundMs);
    const pids = pidsOf(dataDir);
    leftovers.push(pids.start, pids.redis);
    expect(commandLineOf(pids.start)).toContain(cliPath.slice(cliPath.indexOf('dist/')));
    // No `sh -c` between npm and node: a signal npm forwards reaches node itself.
    expect(parentOf(pids.start)).toBe(npm.child.pid);
    npm.child.kill('SIGTERM');
    await allGone([pids.start, pids.redis], 'start and its redis-server to stop after SIGTERM to npm');
    await npm.exitWithin(stopBoundMs);
  });

  it('a second start on a live data directory refuses without touching the first; the first stops when its parent dies', async () => {
    const dataDir = path.join(tmp, 'shared');
    // A parent shell between the test and start, so the parent can die alone (SIGKILL: no chance to signal).
    const shell = new SpawnedProcess(
      spawn('sh', ['-c', '"$0" "$1" start & wait', process.execPath, cliPath], {
        env: childEnv(startEnv(dataDir)),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await shell.waitFor(/Press Ctrl-C/, startBoundMs);
    const first = pidsOf(dataDir);
    leftovers.push(first.start, first.redis);
    const redisPort = Number(/redis-server: ready at redis:\/\/127\.0\.0\.1:(\d+)/.exec(shell.stdout)?.[1]);

    const second = spawnCli(['start'], startEnv(dataDir));
    const exit = await second.exitWithin(stopBoundMs);
    expect(exit.code).toBe(1);
    expect(second.stderr).toContain('SIDECAR_ERR_DATA_DIR_IN_USE');
    expect(second.stderr).toContain(`pid ${first.start}`);
    expect(second.stderr).toContain('APM_SIDECAR_DATA');
    expect(running(first.redis)).toBe(true);
    await waitForPort(redisPort);

    shell.child.kill('SIGKILL');
    await allGone([first.start, first.redis], 'the orphaned start and its redis-server to stop');
  });

  it('a SIGTERM drain ends within server.shutdown_timeout while Redis is down (proxy and forwarder)', async () => {
    const redis = await RedisServer.start();
    const bounded = { APM_SIDECAR_SERVER_SHUTDOWN_TIMEOUT: '1s', APM_SIDECAR_LOG_LEVEL: 'info' };
    const proxy = spawnCli(['proxy'], proxyEnv(redis.url, bounded));
    const forwarder = spawnCli(['forwarder'], {
      APM_SIDECAR_REDIS_URL: redis.url,
      APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
      APM_SIDECAR_DATA: path.join(tmp, 'documents'),
      ...bounded,
    });
    try {
      await proxy.waitFor(/admin listening/, startBoundMs);
      await forwarder.waitFor(/taking jobs from the queue/, startBoundMs);
      await redis.stop();
      proxy.child.kill('SIGTERM');
      forwarder.child.kill('SIGTERM');
      for (const child of [proxy, forwarder]) {
        const exit = await child.exitWithin(stopBoundMs);
        // 0 when everything closed, 1 when the bound cut the drain short: either way it ended by itself.
        expect(exit.signal).toBeNull();
        expect([0, 1]).toContain(exit.code);
      }
    } finally {
      await proxy.stop('SIGKILL');
      await forwarder.stop('SIGKILL');
      await redis.destroy();
    }
  });
});
