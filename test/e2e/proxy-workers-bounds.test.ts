import tls from 'node:tls';

import { testPki } from '../support/certs';
import { RedisServer } from '../support/redis';
import { proxyEnv, spawnCli, type SpawnedProcess } from '../support/spawn-cli';

// Spawned processes on a loaded 2-core machine (8 jobs at once): a bound that proves each test ends, not how fast.
jest.setTimeout(240_000);

/** Resolves true when the TLS handshake completes, false when the server closes the connection first. */
function handshake(port: number, open: tls.TLSSocket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost' });
    open.push(socket);
    socket.once('secureConnect', () => resolve(true));
    socket.on('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

describe('server.workers 2: server.max_connections holds per worker (spawned `apm-sidecar proxy`)', () => {
  let redis: RedisServer;
  let proxy: SpawnedProcess | undefined;
  const open: tls.TLSSocket[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    for (const socket of open) socket.destroy();
    await proxy?.stop('SIGKILL');
    await redis?.destroy();
  });

  it('max_connections 1 with 2 workers keeps 2 connections open and closes the third', async () => {
    proxy = spawnCli(
      ['proxy'],
      proxyEnv(redis.url, {
        APM_SIDECAR_SERVER_WORKERS: '2',
        APM_SIDECAR_SERVER_MAX_CONNECTIONS: '1',
        APM_SIDECAR_QUEUE: `workers-bounds-${process.pid}`,
      }),
    );
    await proxy.waitFor(/"message":"proxy workers listening/, 60_000);
    const port = Number(proxy.logLines().find((l) => l.msg === 'proxy workers listening')?.port);
    // The primary hands connections out in turn: one to each worker, then the third to a worker holding its one,
    // which closes it (Node's own cap instead made the primary and the worker hand it back and forth, unanswered).
    expect(await handshake(port, open)).toBe(true);
    expect(await handshake(port, open)).toBe(true);
    expect(await handshake(port, open)).toBe(false);
    for (const socket of open) socket.destroy();
    proxy.child.kill('SIGTERM');
    expect(await proxy.exitWithin(45_000)).toEqual({ code: 0, signal: null });
    expect(proxy.logLines().filter((l) => l.level === 'error')).toEqual([]);
  });
});
