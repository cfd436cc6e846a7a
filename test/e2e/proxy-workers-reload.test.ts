import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { issueCertificate } from '../../tls/local-ca';
import { testPki } from '../support/certs';
import { intakeMetadataLine } from '../support/in-flight-request';
import type { LogLine } from '../support/log-line';
import { eventually, httpRequest } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { spawnCli, type SpawnedProcess } from '../support/spawn-cli';

// Spawned processes on a loaded 2-core machine (8 jobs at once): a bound that proves each test ends, not how fast.
jest.setTimeout(240_000);

/**
 * server.workers 2: each worker holds its own TLS context and token verifier, so a reload must reach both.
 * node:cluster hands connections out in turn, so `round` fresh connections in a row meet every worker: a reload
 * that one worker missed shows as a stale answer among them.
 */
const round = 6;
const startBoundMs = 60_000;
const reloadBoundMs = 30_000;

function presented(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function presentedByEvery(port: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < round; i++) seen.add(await presented(port));
  return seen;
}

async function statusesFor(port: number, token: string): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < round; i++) {
    const event = {
      transaction: {
        id: crypto.randomBytes(8).toString('hex'),
        trace_id: crypto.randomBytes(16).toString('hex'),
        type: 'request',
        duration: 1,
        span_count: { started: 0 },
      },
    };
    const res = await httpRequest(`https://127.0.0.1:${port}/intake/v2/events`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-ndjson' },
      body: `${intakeMetadataLine}${JSON.stringify(event)}\n`,
    });
    seen.add(res.status);
  }
  return seen;
}

function newPair(): { cert: string; key: string; fingerprint: string } {
  const next = issueCertificate(testPki().ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  return { ...next, fingerprint: new crypto.X509Certificate(next.cert).fingerprint256 };
}

function workersLogging(lines: readonly LogLine[], message: string, reason?: string): Set<unknown> {
  return new Set(
    lines
      .filter((l) => l.msg?.startsWith(message) === true && (reason === undefined || l.reason === reason))
      .map((l) => l.worker),
  );
}

describe('server.workers 2: certificate and token-file reloads reach every worker (spawned `apm-sidecar proxy`)', () => {
  let redis: RedisServer;
  let dir: string;
  const running: SpawnedProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-workers-reload-'));
  });

  afterAll(async () => {
    for (const proxy of running) await proxy.stop('SIGKILL');
    await redis?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(
    name: string,
    reloadInterval: string,
  ): Promise<{ proxy: SpawnedProcess; port: number; files: Record<'cert' | 'key' | 'tokens', string> }> {
    const files = {
      cert: path.join(dir, `${name}.crt`),
      key: path.join(dir, `${name}.key`),
      tokens: path.join(dir, `${name}.tokens`),
    };
    fs.copyFileSync(testPki().serverCertFile, files.cert);
    fs.copyFileSync(testPki().serverKeyFile, files.key);
    fs.writeFileSync(files.tokens, 'first first-token\n');
    const proxy = spawnCli(['proxy'], {
      APM_SIDECAR_HOST: '127.0.0.1:0',
      APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
      APM_SIDECAR_REDIS_URL: redis.url,
      APM_SIDECAR_QUEUE: `workers-reload-${name}-${process.pid}`,
      APM_SIDECAR_SERVER_WORKERS: '2',
      APM_SIDECAR_SSL_CERTIFICATE: files.cert,
      APM_SIDECAR_SSL_KEY: files.key,
      APM_SIDECAR_SECRET_TOKEN_FILE: files.tokens,
      APM_SIDECAR_SERVER_SSL_RELOAD_INTERVAL: reloadInterval,
      APM_SIDECAR_LOG_LEVEL: 'info',
    });
    running.push(proxy);
    await proxy.waitFor(/"message":"proxy workers listening/, startBoundMs);
    const port = Number(proxy.logLines().find((l) => l.msg === 'proxy workers listening')?.port);
    return { proxy, port, files };
  }

  it('a changed certificate pair and token file are picked up by both workers (file checks)', async () => {
    const { proxy, port, files } = await start('poll', '200ms');
    const before = await presentedByEvery(port);
    expect(before.size).toBe(1);
    expect(await statusesFor(port, 'first-token')).toEqual(new Set([202]));

    const next = newPair();
    fs.writeFileSync(files.key, next.key);
    fs.writeFileSync(files.cert, next.cert);
    await eventually(
      async () => {
        const seen = await presentedByEvery(port);
        return seen.size === 1 && seen.has(next.fingerprint) ? true : undefined;
      },
      reloadBoundMs,
      `every worker presenting the new certificate on ${round} connections in a row`,
    );

    fs.writeFileSync(files.tokens, 'second second-token\n');
    await eventually(
      async () => {
        const seen = await statusesFor(port, 'second-token');
        return seen.size === 1 && seen.has(202) ? true : undefined;
      },
      reloadBoundMs,
      `every worker accepting the new token on ${round} requests in a row`,
    );
    expect(await statusesFor(port, 'first-token')).toEqual(new Set([401]));
    expect(workersLogging(proxy.logLines(), 'secret tokens reloaded')).toEqual(new Set([1, 2]));

    proxy.child.kill('SIGTERM');
    expect(await proxy.exitWithin(45_000)).toEqual({ code: 0, signal: null });
    expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
  });

  it('SIGHUP to the primary reloads the certificate and the tokens in both workers (no file checks)', async () => {
    const { proxy, port, files } = await start('sighup', '0s');
    const before = await presentedByEvery(port);
    const next = newPair();
    fs.writeFileSync(files.key, next.key);
    fs.writeFileSync(files.cert, next.cert);
    fs.writeFileSync(files.tokens, 'second second-token\n');
    // No file checks: without the signal both stay (what a poll would have caught by now is not the point).
    expect(await presentedByEvery(port)).toEqual(before);
    expect(await statusesFor(port, 'second-token')).toEqual(new Set([401]));

    proxy.child.kill('SIGHUP');
    await eventually(
      () =>
        workersLogging(proxy.logLines(), 'secret tokens reloaded', 'SIGHUP').size === 2 &&
        workersLogging(proxy.logLines(), 'TLS certificate reloaded', 'SIGHUP').size === 2
          ? true
          : undefined,
      reloadBoundMs,
      'both workers to log both reloads',
    );
    expect(await presentedByEvery(port)).toEqual(new Set([next.fingerprint]));
    expect(await statusesFor(port, 'second-token')).toEqual(new Set([202]));
    expect(await statusesFor(port, 'first-token')).toEqual(new Set([401]));

    proxy.child.kill('SIGTERM');
    expect(await proxy.exitWithin(45_000)).toEqual({ code: 0, signal: null });
    expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
  });
});
