import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { testPki } from '../support/certs';
import { eventually, httpRequest, testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { childEnv, proxyEnv, spawnCli, SpawnedProcess as Spawned, type SpawnedProcess } from '../support/spawn-cli';

/** A long-running app with the real agent polling central config (the agent's minimum interval is 5 s). */
const pollingApp = `
require('elastic-apm-node').start({
  serviceName: 'e2e-config', environment: 'e2e', serverUrl: process.env.SERVER_URL, secretToken: process.env.SECRET_TOKEN,
  serverCaCertFile: process.env.CA_FILE, centralConfig: true, metricsInterval: '0s', cloudProvider: 'none',
  captureExceptions: false, logLevel: 'info', disableInstrumentations: ['http'],
});
setInterval(() => undefined, 1000);
`;

const configFor = (rate: string): string =>
  `- service: {name: e2e-config, environment: e2e}\n  settings: {transaction_sample_rate: "${rate}"}\n- settings: {transaction_sample_rate: "1.0"}\n`;

describe('the real Node agent polling central configuration from the built `apm-sidecar proxy`', () => {
  let redis: RedisServer;
  let proxy: SpawnedProcess | undefined;
  let agent: SpawnedProcess | undefined;
  let dir: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-e2e-'));
  });

  afterAll(async () => {
    await agent?.stop('SIGKILL');
    await proxy?.stop();
    await redis?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('applies a setting, gets 304 while it is unchanged, and applies a changed one within a cache period', async () => {
    const pki = testPki();
    const file = path.join(dir, 'agents.yml');
    fs.writeFileSync(file, configFor('0.5'));
    proxy = spawnCli(
      ['proxy'],
      proxyEnv(redis.url, {
        APM_SIDECAR_QUEUE: `agent-config-e2e-${process.pid}`,
        APM_SIDECAR_AGENT_CONFIG_SOURCE: 'file',
        APM_SIDECAR_AGENT_CONFIG_FILE: file,
        APM_SIDECAR_AGENT_CONFIG_CACHE_EXPIRATION: '5s',
      }),
    );
    await proxy.waitFor(/"message":"admin listening/);
    const port = Number(proxy.logLines().find((l) => l.msg === 'intake listening')?.port);
    const adminPort = Number(proxy.logLines().find((l) => String(l.msg).startsWith('admin listening'))?.port);

    agent = new Spawned(
      spawn(process.execPath, ['-e', pollingApp], {
        cwd: path.resolve(__dirname, '../..'),
        env: childEnv({ SERVER_URL: `https://localhost:${port}`, SECRET_TOKEN: testToken, CA_FILE: pki.caFile }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await agent.waitFor(/Central config success: updated transactionSampleRate: 0\.5/, 30_000);

    // The agent polls again after max-age (5 s) with If-None-Match; the proxy answers 304.
    await eventually(
      async () => {
        const metrics = await httpRequest(`http://127.0.0.1:${adminPort}/metrics`);
        return /apm_sidecar_agent_config_requests_total\{result="not_modified"[^}]*\} [1-9]/.test(metrics.body)
          ? true
          : undefined;
      },
      30_000,
      'a 304 to the agent',
    );

    fs.writeFileSync(`${file}.new`, configFor('0.25'));
    fs.renameSync(`${file}.new`, file);
    await agent.waitFor(/Central config success: updated transactionSampleRate: 0\.25/, 30_000);
    expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
    expect(proxy.stdout).not.toContain(testToken);
  });
});
