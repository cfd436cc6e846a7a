import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { eventually } from '../support/proxy-harness';
import { spawnCli, type SpawnedProcess } from '../support/spawn-cli';
import { runAgentApp } from './agent-app';

interface PrintedSettings {
  readonly serverUrl: string;
  readonly secretToken: string;
  readonly serverCaCertFile: string;
  readonly redisUrl: string;
}

function setting(output: string, name: string): string {
  const m = new RegExp(`^\\s+${name}\\s+(\\S+)$`, 'm').exec(output);
  if (m?.[1] === undefined) throw new Error(`no ${name} in:\n${output}`);
  return m[1];
}

async function startOn(dataDir: string): Promise<{ process: SpawnedProcess; settings: PrintedSettings }> {
  const started = spawnCli(['start'], {
    APM_SIDECAR_DATA: dataDir,
    APM_SIDECAR_HOST: '127.0.0.1:0',
    APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
    APM_SIDECAR_LOG_LEVEL: 'warn',
  });
  await started.waitFor(/Press Ctrl-C/, 60_000);
  const redisUrl = /redis-server: ready at (redis:\/\/\S+),/.exec(started.stdout)?.[1] ?? '';
  const settings = {
    serverUrl: setting(started.stdout, 'serverUrl'),
    secretToken: setting(started.stdout, 'secretToken'),
    serverCaCertFile: setting(started.stdout, 'serverCaCertFile'),
    redisUrl,
  };
  return { process: started, settings };
}

/** processor.event of every document the forwarder wrote as ndjson under path.data/documents/ (bulk format). */
function writtenEvents(dataDir: string): Map<string, number> {
  const dir = path.join(dataDir, 'documents');
  const counts = new Map<string, number>();
  if (!fs.existsSync(dir)) return counts;
  for (const file of fs.readdirSync(dir)) {
    for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const doc = JSON.parse(line) as { processor?: { event?: string } };
      const event = doc.processor?.event;
      if (event !== undefined) counts.set(event, (counts.get(event) ?? 0) + 1);
    }
  }
  return counts;
}

function isRedisServer(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server');
  } catch {
    return false;
  }
}

function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

describe('`apm-sidecar start` on an empty data directory', () => {
  let dataDir: string;
  let running: SpawnedProcess | undefined;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-start-'));
  });

  afterAll(async () => {
    // SIGTERM first: start then stops its private redis-server (a SIGKILL would orphan it).
    await running?.stop('SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the agent settings, accepts an agent with them, stops everything on Ctrl-C and reuses its secrets next time', async () => {
    const first = await startOn(dataDir);
    running = first.process;
    const { settings } = first;
    expect(settings.serverUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.process.stdout).toContain(`export ELASTIC_APM_SECRET_TOKEN=${settings.secretToken}`);
    expect(first.process.stdout).toContain(`export ELASTIC_APM_SERVER_CA_CERT_FILE=${settings.serverCaCertFile}`);
    for (const file of ['secret-token', 'tls/ca.key', 'tls/server.key']) {
      expect(fs.statSync(path.join(dataDir, file)).mode & 0o777).toBe(0o600);
    }
    // Certificates are public: agents are handed ca.crt.
    for (const file of ['tls/ca.crt', 'tls/server.crt'])
      expect(fs.statSync(path.join(dataDir, file)).mode & 0o777).toBe(0o644);
    expect(fs.existsSync(path.join(dataDir, 'redis'))).toBe(true);

    await runAgentApp(settings.serverUrl, settings.secretToken, settings.serverCaCertFile);
    // With no Elasticsearch hosts, the forwarder that start runs writes the documents as ndjson in path.data.
    await eventually(
      () => {
        const written = writtenEvents(dataDir);
        return Promise.resolve(
          written.has('transaction') && written.has('span') && written.has('error') ? true : undefined,
        );
      },
      30_000,
      "the agent's transaction, span and error as documents under path.data/documents",
    );
    const firstRun = writtenEvents(dataDir);

    first.process.child.kill('SIGINT');
    expect((await first.process.exited).code).toBe(0);
    expect(await accepts(settings.redisUrl)).toBe(false);

    const second = await startOn(dataDir);
    running = second.process;
    expect(second.settings.secretToken).toBe(settings.secretToken);
    expect(second.process.stdout).toMatch(/reusing a local CA/);
    // The documents of the first run are kept, and none is written twice by the second run.
    expect(writtenEvents(dataDir)).toEqual(firstRun);
    second.process.child.kill('SIGTERM');
    const exit = await second.process.exited;
    if (exit.code !== 0)
      throw new Error(`second start exited ${String(exit.code)}:\n${second.process.stdout}\n${second.process.stderr}`);
  });
  it('stops a redis-server an earlier start left behind when it was killed with SIGKILL', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-start-kill-'));
    try {
      const killed = await startOn(dir);
      const pidFile = path.join(dir, 'redis', 'redis-server.pid');
      const leftover = Number(fs.readFileSync(pidFile, 'utf8').trim());
      killed.process.child.kill('SIGKILL');
      await killed.process.exited;
      expect(isRedisServer(leftover)).toBe(true);

      const next = await startOn(dir);
      running = next.process;
      expect(isRedisServer(leftover)).toBe(false);
      expect(await accepts(next.settings.redisUrl)).toBe(true);
      next.process.child.kill('SIGTERM');
      expect(await next.process.exited).toEqual({ code: 0, signal: null });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
