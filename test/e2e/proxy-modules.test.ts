import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort, waitForPort } from '../support/ports';
import { eventually } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { proxyEnv, spawnCli } from '../support/spawn-cli';

/**
 * What a running `apm-sidecar proxy` holds in memory: every module it loads stays resident (source, code and
 * objects), so a feature that is off must not load its modules. A preload script lists require.cache on SIGUSR2.
 */
const repoRoot = path.resolve(__dirname, '..', '..');
const boundMs = 60_000;

/** Module groups loaded only for their feature, as regular expressions over absolute module paths. */
const optional = {
  elasticsearchClient: /\/node_modules\/@elastic\/elasticsearch\//,
  pinoPretty: /\/node_modules\/pino-pretty\//,
  yaml: /\/node_modules\/yaml\//,
  passthrough: /\/node_modules\/http-proxy-3\//,
  clusterPrimary: /\/dist\/proxy\/cluster\/primary\.js$/,
  forwarder: /\/dist\/forwarder\//,
} as const;

type Group = keyof typeof optional;

describe('apm-sidecar proxy loads only the modules of the features it runs', () => {
  let redis: RedisServer;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-modules-'));
  const preload = path.join(tmp, 'list-modules.js');
  fs.writeFileSync(
    preload,
    `process.on('SIGUSR2', () => require('node:fs').writeFileSync(process.env.MODULE_LIST, Object.keys(require.cache).join('\\n')));\n`,
  );

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** The groups of `optional` a proxy started with `extra` holds once its listeners are up. */
  async function loadedGroups(name: string, extra: Record<string, string>): Promise<Group[]> {
    const list = path.join(tmp, `${name}.txt`);
    const adminPort = await freePort();
    const proxy = spawnCli(
      ['proxy'],
      proxyEnv(redis.url, {
        APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
        NODE_OPTIONS: `--require ${preload}`,
        MODULE_LIST: list,
        ...extra,
      }),
    );
    try {
      // The admin listener opens last, once the intake listens.
      await waitForPort(adminPort, boundMs);
      proxy.child.kill('SIGUSR2');
      const modules = await eventually(
        () => (fs.existsSync(list) ? fs.readFileSync(list, 'utf8').split('\n') : undefined),
        boundMs,
        'the module list',
      );
      expect(modules.some((m) => m.startsWith(path.join(repoRoot, 'dist', 'proxy')))).toBe(true);
      return (Object.keys(optional) as Group[]).filter((g) => modules.some((m) => optional[g].test(m)));
    } finally {
      await proxy.stop();
    }
  }

  it('with the defaults (JSON logs, no config file, no API keys, no upstream, one process): none of them', async () => {
    expect(await loadedGroups('defaults', {})).toEqual([]);
  });

  it('each is loaded when its feature is on', async () => {
    const configFile = path.join(tmp, 'apm-sidecar.yml');
    fs.writeFileSync(configFile, 'upstream:\n  url: http://127.0.0.1:9\n');
    expect(
      await loadedGroups('features', {
        APM_SIDECAR_CONFIG: configFile,
        APM_SIDECAR_LOG_FORMAT: 'pretty',
        APM_SIDECAR_API_KEY_ENABLED: 'true',
        APM_SIDECAR_ES_HOSTS: 'http://127.0.0.1:9',
      }),
    ).toEqual(['elasticsearchClient', 'pinoPretty', 'yaml', 'passthrough']);
  });
});
