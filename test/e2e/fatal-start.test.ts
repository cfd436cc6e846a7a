import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { testPki } from '../support/certs';
import { RedisServer } from '../support/redis';
import { proxyEnv, spawnCli } from '../support/spawn-cli';

/** Far longer than a fatal error may take on a loaded machine; a process that stays up fails long before a hang matters. */
const exitBoundMs = 30_000;

/** Runs the built CLI, expects it to end on its own with status 1 naming the code and the setting on stderr. */
async function expectFatal(
  args: readonly string[],
  env: Record<string, string>,
  code: string,
  ...settings: string[]
): Promise<string> {
  const child = spawnCli(args, env);
  const exit = await child.exitWithin(exitBoundMs);
  expect({ exit, stderr: child.stderr }).toEqual({
    exit: { code: 1, signal: null },
    stderr: expect.stringContaining(code) as unknown,
  });
  for (const setting of settings) expect(child.stderr).toContain(setting);
  return child.stderr;
}

/** Holds a port on 127.0.0.1 for the test. */
async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a fatal start error ends the process with its code and the setting to change', () => {
  let redis: RedisServer;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-fatal-'));
  const pki = testPki();

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis.destroy();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('proxy: a missing certificate', async () => {
    await expectFatal(
      ['proxy'],
      proxyEnv(redis.url, { APM_SIDECAR_SSL_CERTIFICATE: path.join(tmp, 'no-such.crt') }),
      'SIDECAR_ERR_CONFIG_INVALID',
      'server.ssl.certificate',
      'APM_SIDECAR_SSL_CERTIFICATE',
      'ENOENT',
    );
  });

  it('proxy: an unreadable key', async () => {
    // A directory: unreadable as a file even to root, who reads any mode.
    await expectFatal(
      ['proxy'],
      proxyEnv(redis.url, { APM_SIDECAR_SSL_KEY: tmp }),
      'SIDECAR_ERR_CONFIG_INVALID',
      'server.ssl.key',
      'APM_SIDECAR_SSL_KEY',
      'EISDIR',
    );
  });

  it('proxy: a missing client CA', async () => {
    const env = proxyEnv(redis.url, {
      APM_SIDECAR_SSL_CLIENT_AUTHENTICATION: 'required',
      APM_SIDECAR_SSL_CERTIFICATE_AUTHORITIES: path.join(tmp, 'no-such-ca.crt'),
    });
    await expectFatal(
      ['proxy'],
      env,
      'SIDECAR_ERR_CONFIG_INVALID',
      'server.ssl.certificate_authorities',
      'APM_SIDECAR_SSL_CERTIFICATE_AUTHORITIES',
    );
  });

  it("proxy: a key that is not the certificate's", async () => {
    await expectFatal(
      ['proxy'],
      proxyEnv(redis.url, { APM_SIDECAR_SSL_KEY: pki.clientKeyFile }),
      'SIDECAR_ERR_CONFIG_INVALID',
      'is not the key of server.ssl.certificate',
      'APM_SIDECAR_SSL_KEY',
    );
  });

  it('proxy: server.host taken by another process', async () => {
    const taken = await takenPort();
    try {
      await expectFatal(
        ['proxy'],
        proxyEnv(redis.url, { APM_SIDECAR_HOST: `127.0.0.1:${taken.port}` }),
        'SIDECAR_ERR_LISTEN_FAILED',
        'EADDRINUSE',
        'server.host',
        'APM_SIDECAR_HOST',
      );
    } finally {
      await taken.close();
    }
  });

  it('proxy and forwarder: admin.host taken by another process', async () => {
    const taken = await takenPort();
    try {
      const admin = { APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${taken.port}` };
      await expectFatal(
        ['proxy'],
        proxyEnv(redis.url, admin),
        'SIDECAR_ERR_LISTEN_FAILED',
        'EADDRINUSE',
        'admin.host',
        'APM_SIDECAR_ADMIN_HOST',
      );
      const forwarder = { APM_SIDECAR_REDIS_URL: redis.url, APM_SIDECAR_DATA: tmp, ...admin };
      await expectFatal(
        ['forwarder'],
        forwarder,
        'SIDECAR_ERR_LISTEN_FAILED',
        'EADDRINUSE',
        'admin.host',
        'APM_SIDECAR_ADMIN_HOST',
      );
    } finally {
      await taken.close();
    }
  });

  it('forwarder: a missing Elasticsearch CA file', async () => {
    const env = {
      APM_SIDECAR_REDIS_URL: redis.url,
      APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
      APM_SIDECAR_ES_HOSTS: 'https://127.0.0.1:9',
      APM_SIDECAR_ES_CA: path.join(tmp, 'no-such-es-ca.crt'),
    };
    await expectFatal(
      ['forwarder'],
      env,
      'SIDECAR_ERR_CONFIG_INVALID',
      'output.elasticsearch.ssl.certificate_authorities',
      'APM_SIDECAR_ES_CA',
    );
  });

  it('start: no redis-server on PATH', async () => {
    // PATH holds node alone, so `start` cannot find redis-server.
    const bin = path.join(tmp, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    const env = {
      PATH: bin,
      APM_SIDECAR_DATA: path.join(tmp, 'start'),
      APM_SIDECAR_HOST: '127.0.0.1:0',
      APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
    };
    await expectFatal(
      ['start'],
      env,
      'SIDECAR_ERR_QUEUE_UNAVAILABLE',
      'redis-server',
      'queue.redis.url',
      'APM_SIDECAR_REDIS_URL',
    );
  });
});
