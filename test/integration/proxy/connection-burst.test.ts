import net from 'node:net';

import { ProxyHarness } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

/**
 * A burst of connections that never start TLS (issue 14's adversarial run: 3,000 at once) is closed by the
 * server, every one of them: by server.max_connections at once or by server.ssl.handshake_timeout. With Node's
 * listen backlog (511) the kernel's accept queue overflowed during such a burst; a client whose handshake ACK
 * the kernel then dropped believes it is connected while the proxy never hears of it, so no timeout was ever
 * armed and the connection lived as long as the client kept it (90 s, the bench's own bound).
 */

const burst = 2000;

/** Resolves with how many of `sockets` the server closed within `deadlineMs`; destroys the rest. */
function closedWithin(sockets: readonly net.Socket[], deadlineMs: number): Promise<number> {
  return new Promise((resolve) => {
    let closed = 0;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(closed);
      for (const s of sockets) s.destroy();
    };
    const timer = setTimeout(finish, deadlineMs);
    for (const socket of sockets) {
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (!settled && ++closed === sockets.length) finish();
      });
    }
  });
}

describe('a burst of connections that never start TLS', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({
      redis,
      overrides: { server: { max_connections: 1024, ssl: { handshake_timeout: '1s' } } },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('is closed by the server, every connection, the capped ones at once and the others at handshake_timeout', async () => {
    const { port } = proxy.proxy.intake;
    const sockets = Array.from({ length: burst }, () => net.connect(port, '127.0.0.1'));
    // A lost connection is never closed at all: the bound only has to outlast a slow machine (13.6 s seen at load 20).
    expect(await closedWithin(sockets, 60_000)).toBe(burst);
  }, 90_000);
});
