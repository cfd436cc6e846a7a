import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { eventually } from '../support/proxy-harness';
import { type SpawnedProcess, spawnCli } from '../support/spawn-cli';
import { queuedEvents, runAgentApp } from './agent-app';

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
  const started = spawnCli(['start'], { APM_SIDECAR_DATA: dataDir, APM_SIDECAR_HOST: '127.0.0.1:0', APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0', APM_SIDECAR_LOG_LEVEL: 'warn' });
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
    await running?.stop('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints the agent settings, accepts an agent with them, stops everything on Ctrl-C and reuses its secrets next time', async () => {
    const first = await startOn(dataDir);
    running = first.process;
    const { settings } = first;
    expect(settings.serverUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(first.process.stdout).toContain(`export ELASTIC_APM_SECRET_TOKEN=${settings.secretToken}`);
    expect(first.process.stdout).toContain(`export ELASTIC_APM_SERVER_CA_CERT_FILE=${settings.serverCaCertFile}`);
    for (const file of ['secret-token', 'tls/ca.key', 'tls/server.key', 'tls/ca.crt']) {
      expect(fs.statSync(path.join(dataDir, file)).mode & 0o777).toBe(0o600);
    }
    expect(fs.existsSync(path.join(dataDir, 'redis'))).toBe(true);

    await runAgentApp(settings.serverUrl, settings.secretToken, settings.serverCaCertFile);
    await eventually(async () => {
      const found = await queuedEvents(settings.redisUrl, 'apm-intake');
      return found.has('transaction') && found.has('error') ? true : undefined;
    }, 20_000, 'the agent\'s events in the private redis-server');

    first.process.child.kill('SIGINT');
    expect((await first.process.exited).code).toBe(0);
    expect(await accepts(settings.redisUrl)).toBe(false);

    const second = await startOn(dataDir);
    running = second.process;
    expect(second.settings.secretToken).toBe(settings.secretToken);
    expect(second.process.stdout).toMatch(/reusing a local CA/);
    // The queued events survived the restart (AOF in path.data/redis).
    const kept = await queuedEvents(second.settings.redisUrl, 'apm-intake');
    expect(kept.has('transaction')).toBe(true);
    second.process.child.kill('SIGTERM');
    expect((await second.process.exited).code).toBe(0);
  });
});
