/**
 * Question: when does the proxy cut a slowloris sender (headers trickled one byte a second) with the default
 * server.read_timeout (30 s)? Starts the built CLI against a real redis-server and times one such connection.
 *   npm run build && npx tsx bench/slowloris.ts [--cli dist/cli/apm-sidecar.js]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { freePort } from '../test/support/ports';
import { RedisServer } from '../test/support/redis';
import { makePki } from './processes';
import { waitReady } from './scenarios/intake';

async function main(): Promise<void> {
  const at = process.argv.indexOf('--cli');
  const cli = path.resolve(
    at >= 0 ? (process.argv[at + 1] ?? '') : path.join(__dirname, '..', 'dist', 'cli', 'apm-sidecar.js'),
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slowloris-'));
  const pki = makePki(dir);
  const redis = await RedisServer.start();
  const port = await freePort();
  const adminPort = await freePort();
  const env = {
    PATH: process.env.PATH,
    APM_SIDECAR_HOST: `127.0.0.1:${port}`,
    APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
    APM_SIDECAR_SECRET_TOKEN: 'slow-token',
    APM_SIDECAR_SSL_CERTIFICATE: pki.certFile,
    APM_SIDECAR_SSL_KEY: pki.keyFile,
    APM_SIDECAR_REDIS_URL: redis.url,
    APM_SIDECAR_LOG_LEVEL: 'warn',
  };
  const proxy = spawn(process.execPath, [cli, 'proxy'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitReady(adminPort);
    const head = 'POST /intake/v2/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer slow-token\r\n';
    const seconds = await new Promise<number>((resolve) => {
      const socket = tls.connect(
        { host: '127.0.0.1', port, ca: fs.readFileSync(pki.caFile), servername: 'localhost' },
        () => {
          const started = Date.now();
          let i = 0;
          const timer = setInterval(() => socket.write(i < head.length ? head.charAt(i++) : 'X'), 1000);
          socket.on('close', () => {
            clearInterval(timer);
            resolve((Date.now() - started) / 1000);
          });
          setTimeout(() => socket.destroy(), 120_000).unref();
        },
      );
      socket.on('error', () => undefined);
    });
    process.stdout.write(`${JSON.stringify({ cli, slowloris_cut_after_s: seconds, read_timeout: '30s (default)' })}\n`);
  } finally {
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.once('exit', r));
    await redis.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`slowloris: ${String(err)}\n`);
  process.exitCode = 1;
});
