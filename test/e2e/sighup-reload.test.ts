import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { issueCertificate } from '../../tls/local-ca';
import { testPki } from '../support/certs';
import { freePort } from '../support/ports';
import { eventually } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { spawnCli, type SpawnedProcess } from '../support/spawn-cli';

function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

// server.ssl.reload_interval 0s turns the file poll off, so only the signal can explain the reload.
describe('`apm-sidecar proxy` reloads its certificate on SIGHUP', () => {
  let redis: RedisServer;
  let dir: string;
  let proxy: SpawnedProcess | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-sighup-'));
  });

  afterAll(async () => {
    await proxy?.stop('SIGKILL');
    await redis.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the new pair to the next connection after SIGHUP, and not before', async () => {
    const certificate = path.join(dir, 'server.crt');
    const key = path.join(dir, 'server.key');
    fs.copyFileSync(testPki().serverCertFile, certificate);
    fs.copyFileSync(testPki().serverKeyFile, key);
    const port = await freePort();
    proxy = spawnCli(['proxy'], {
      APM_SIDECAR_HOST: `127.0.0.1:${port}`,
      APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
      APM_SIDECAR_SSL_CERTIFICATE: certificate,
      APM_SIDECAR_SSL_KEY: key,
      APM_SIDECAR_SERVER_SSL_RELOAD_INTERVAL: '0s',
      APM_SIDECAR_SECRET_TOKEN: 'sighup-token',
      APM_SIDECAR_REDIS_URL: redis.url,
      APM_SIDECAR_LOG_LEVEL: 'info',
    });
    await proxy.waitFor(/intake listening/);
    const before = await presented(port);

    const next = issueCertificate(testPki().ca, {
      commonName: 'localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
    });
    fs.writeFileSync(key, next.key);
    fs.writeFileSync(certificate, next.cert);
    // Without the signal the running pair stays (no poll): still the old certificate a while later.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await presented(port)).toBe(before);

    proxy.child.kill('SIGHUP');
    const expected = new crypto.X509Certificate(next.cert).fingerprint256;
    await eventually(
      async () => ((await presented(port)) === expected ? true : undefined),
      15_000,
      'the new certificate after SIGHUP',
    );
    await proxy.waitFor(/"reason":"SIGHUP".*TLS certificate reloaded/);

    proxy.child.kill('SIGTERM');
    expect((await proxy.exited).code).toBe(0);
    expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
  });
});
