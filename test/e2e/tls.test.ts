import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { issueCertificate } from '../../tls/local-ca';
import { testPki } from '../support/certs';
import { eventually, httpRequest, ProxyHarness, testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';

const auth = { Authorization: `Bearer ${testToken}`, Accept: 'application/json' };

/** Handshakes and returns the certificate the server presented (or the handshake error). */
function handshake(
  port: number,
  options: tls.ConnectionOptions = {},
): Promise<{ fingerprint: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost', ...options },
      () => {
        const result = { fingerprint: socket.getPeerCertificate().fingerprint256, protocol: socket.getProtocol() };
        socket.end();
        resolve(result);
      },
    );
    socket.on('error', reject);
  });
}

function fingerprintOf(pem: string): string {
  return new crypto.X509Certificate(pem).fingerprint256;
}

describe("TLS on the agents' listener", () => {
  let redis: RedisServer;
  let dir: string;
  let proxy: ProxyHarness;
  let certFile: string;
  let keyFile: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const pki = testPki();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-tls-swap-'));
    certFile = path.join(dir, 'server.crt');
    keyFile = path.join(dir, 'server.key');
    fs.copyFileSync(pki.serverCertFile, certFile);
    fs.copyFileSync(pki.serverKeyFile, keyFile);
    proxy = await ProxyHarness.start({
      redis,
      overrides: { server: { ssl: { certificate: certFile, key: keyFile } } },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('accepts TLS 1.3 (and 1.2)', async () => {
    expect((await handshake(proxy.proxy.intake.port, { minVersion: 'TLSv1.3' })).protocol).toBe('TLSv1.3');
    expect((await handshake(proxy.proxy.intake.port, { maxVersion: 'TLSv1.2' })).protocol).toBe('TLSv1.2');
  });

  it('refuses a TLS 1.1 client', async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's.
    const attempt = handshake(proxy.proxy.intake.port, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    await expect(attempt).rejects.toThrow(/protocol|version/i);
  });

  it('serves a certificate swapped on disk to the next connection while an open connection keeps working', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: testPki().ca.cert });
    try {
      const get = (): Promise<number> =>
        new Promise((resolve, reject) => {
          https
            .get({ host: '127.0.0.1', port: proxy.proxy.intake.port, path: '/', agent, headers: auth }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            })
            .on('error', reject);
        });
      expect(await get()).toBe(200);
      const before = (await handshake(proxy.proxy.intake.port)).fingerprint;
      const next = issueCertificate(testPki().ca, {
        commonName: 'localhost',
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1', '::1'],
      });
      // Key first, then certificate: the pair is only consistent once both are written.
      fs.writeFileSync(keyFile, next.key);
      fs.writeFileSync(certFile, next.cert);
      const after = await eventually(
        async () => {
          const seen = (await handshake(proxy.proxy.intake.port)).fingerprint;
          return seen === fingerprintOf(next.cert) ? seen : undefined;
        },
        20_000,
        'the new certificate',
      );
      expect(after).not.toBe(before);
      expect(await get()).toBe(200);
      expect(proxy.sink.lines.some((l) => l.msg === 'TLS certificate reloaded; new connections use it')).toBe(true);
    } finally {
      agent.destroy();
    }
  });
});

describe('client certificates required', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({
      redis,
      overrides: {
        server: { ssl: { client_authentication: 'required', certificate_authorities: [testPki().caFile] } },
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('accepts a client certificate from the configured CA', async () => {
    const pki = testPki();
    const res = await httpRequest(`${proxy.baseUrl}/`, {
      headers: auth,
      tlsOptions: { cert: fs.readFileSync(pki.clientCertFile), key: fs.readFileSync(pki.clientKeyFile) },
    });
    expect(res.status).toBe(200);
  });

  it('refuses a client certificate from another CA, and no certificate at all', async () => {
    const pki = testPki();
    const wrong = httpRequest(`${proxy.baseUrl}/`, {
      headers: auth,
      tlsOptions: { cert: fs.readFileSync(pki.otherClientCertFile), key: fs.readFileSync(pki.otherClientKeyFile) },
    });
    await expect(wrong).rejects.toThrow();
    await expect(httpRequest(`${proxy.baseUrl}/`, { headers: auth })).rejects.toThrow();
  });
});
