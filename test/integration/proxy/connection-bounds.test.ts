import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';

import { testPki } from '../../support/certs';
import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

/**
 * Time and connection bounds of the agents' listener (issue 14, items 3 and 8): slowloris headers are cut at
 * server.read_timeout, a connection that never finishes TLS at server.ssl.handshake_timeout, connections beyond
 * server.max_connections are closed at once, heads beyond server.max_header_size get 431, a client outside
 * server.allowed_networks is dropped before the handshake, TLS 1.2 offers only ECDHE+AEAD suites and refuses
 * client renegotiation. Deadlines are generous (several times the configured bound); what fails today is the
 * order of magnitude (Node's defaults: 30-60 s for headers, 120 s for a handshake).
 */

interface Closed {
  readonly afterMs: number;
  readonly received: string;
  readonly secured: boolean;
}

/** Resolves when the server closes the socket (or `deadlineMs` passes: then `afterMs` is Infinity). */
function whenClosed(socket: net.Socket, deadlineMs: number, state: { secured: boolean }): Promise<Closed> {
  const started = Date.now();
  let received = '';
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ afterMs: Infinity, received, secured: state.secured });
    }, deadlineMs);
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ afterMs: Date.now() - started, received, secured: state.secured });
    });
  });
}

function tlsConnect(
  port: number,
  extra: tls.ConnectionOptions = {},
): { socket: tls.TLSSocket; state: { secured: boolean }; secure: Promise<void> } {
  const state = { secured: false };
  const socket = tls.connect({ host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost', ...extra });
  const secure = new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => {
      state.secured = true;
      resolve();
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before the handshake completed')));
  });
  secure.catch(() => undefined);
  return { socket, state, secure };
}

describe('connection bounds of the intake listener', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({
      redis,
      overrides: {
        server: { read_timeout: '1s', idle_timeout: '30s', max_header_size: 2048, ssl: { handshake_timeout: '1s' } },
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('cuts a slowloris sender (headers trickled) at server.read_timeout', async () => {
    const { socket, state, secure } = tlsConnect(proxy.proxy.intake.port);
    await secure;
    const head = `POST /intake/v2/events HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${testToken}\r\n`;
    let i = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed) socket.write(i < head.length ? head.charAt(i++) : 'X-Pad: a\r\n');
    }, 100);
    const closed = await whenClosed(socket, 15_000, state);
    clearInterval(trickle);
    expect(closed.afterMs).toBeLessThan(6_000);
    expect(closed.afterMs).toBeGreaterThanOrEqual(900);
    proxy.sink.assertNoUnexpectedErrors();
  });

  it('closes a TCP connection that never starts TLS at server.ssl.handshake_timeout', async () => {
    const socket = net.connect(proxy.proxy.intake.port, '127.0.0.1');
    const closed = await whenClosed(socket, 15_000, { secured: false });
    expect(closed.afterMs).toBeLessThan(6_000);
  });

  it('closes a connection that trickles its TLS hello, however slowly, at server.ssl.handshake_timeout', async () => {
    // A real ClientHello, captured from a client, sent one byte every 100 ms.
    const hello = await captureClientHello();
    const socket = net.connect(proxy.proxy.intake.port, '127.0.0.1');
    let i = 0;
    const trickle = setInterval(() => {
      if (!socket.destroyed && i < hello.length) socket.write(hello.subarray(i, ++i));
    }, 100);
    const closed = await whenClosed(socket, 15_000, { secured: false });
    clearInterval(trickle);
    expect(closed.afterMs).toBeLessThan(6_000);
  });

  it('serves a client whose hello comes after a pause, beside clients that leave before sending a byte', async () => {
    const port = proxy.proxy.intake.port;
    // TLS starts only with the first bytes: the proxy must not trip over a client that closes or resets first.
    const closing = net.connect(port, '127.0.0.1');
    await once(closing, 'connect');
    closing.end();
    const resetting = net.connect(port, '127.0.0.1');
    await once(resetting, 'connect');
    resetting.resetAndDestroy();
    const raw = net.connect(port, '127.0.0.1');
    await once(raw, 'connect');
    await sleep(300);
    const { socket, state, secure } = tlsConnect(port, { socket: raw });
    await secure;
    socket.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const closed = await whenClosed(socket, 5_000, state);
    expect(closed.received).toMatch(/^HTTP\/1\.1 200 /);
    proxy.sink.assertNoUnexpectedErrors();
  });

  it('answers 431 to a request head larger than server.max_header_size', async () => {
    const res = await proxy.request('/', { headers: { 'x-flood': 'a'.repeat(4096) } });
    expect(res.status).toBe(431);
  });

  it('answers 400 to a request it cannot parse before it closes the connection', async () => {
    const { socket, state, secure } = tlsConnect(proxy.proxy.intake.port);
    await secure;
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    const closed = await whenClosed(socket, 5_000, state);
    expect(closed.received).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nConnection: close\r\n/);
  });

  it('offers TLS 1.2 only with ECDHE key exchange and AEAD ciphers', async () => {
    for (const cipher of ['AES128-SHA', 'AES256-SHA256', 'AES128-GCM-SHA256', 'ECDHE-RSA-AES128-SHA']) {
      const weak = tlsConnect(proxy.proxy.intake.port, { maxVersion: 'TLSv1.2', ciphers: cipher });
      await expect(weak.secure).rejects.toThrow();
      weak.socket.destroy();
    }
    const strong = tlsConnect(proxy.proxy.intake.port, {
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-RSA-AES128-GCM-SHA256',
    });
    await strong.secure;
    expect(strong.socket.getCipher().name).toBe('ECDHE-RSA-AES128-GCM-SHA256');
    strong.socket.destroy();
  });

  it('refuses client-initiated renegotiation', async () => {
    const { socket, secure } = tlsConnect(proxy.proxy.intake.port, { maxVersion: 'TLSv1.2' });
    await secure;
    const outcome = await new Promise<string>((resolve) => {
      socket.on('error', (err: Error) => resolve(`error: ${err.message}`));
      socket.on('close', () => resolve('closed'));
      const started = socket.renegotiate({ rejectUnauthorized: true }, (err) =>
        resolve(err === null ? 'renegotiated' : `error: ${err.message}`),
      );
      if (!started) resolve('not started');
    });
    expect(outcome).not.toBe('renegotiated');
    socket.destroy();
  });
});

describe('server.max_connections', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { server: { max_connections: 2 } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('closes connections beyond the cap at once and accepts again when one closes', async () => {
    const first = tlsConnect(proxy.proxy.intake.port);
    const second = tlsConnect(proxy.proxy.intake.port);
    await Promise.all([first.secure, second.secure]);
    const third = tlsConnect(proxy.proxy.intake.port);
    await expect(third.secure).rejects.toThrow();
    expect(third.state.secured).toBe(false);
    first.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const fourth = tlsConnect(proxy.proxy.intake.port);
    await fourth.secure;
    second.socket.destroy();
    fourth.socket.destroy();
    proxy.sink.assertNoUnexpectedErrors();
  });

  it('counts connections that never start TLS against the cap', async () => {
    const port = proxy.proxy.intake.port;
    await sleep(300); // the server sees the previous test's connections close
    const silent = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    const closedEarly = silent.map((s) => whenClosed(s, 60_000, { secured: false }));
    await Promise.all(silent.map((s) => once(s, 'connect')));
    await sleep(200);
    expect(silent.every((s) => !s.destroyed)).toBe(true);
    const refused = tlsConnect(port);
    await expect(refused.secure).rejects.toThrow();
    silent[0]?.destroy();
    await sleep(200);
    const admitted = tlsConnect(port);
    await admitted.secure;
    admitted.socket.destroy();
    silent[1]?.destroy();
    await Promise.all(closedEarly);
    proxy.sink.assertNoUnexpectedErrors();
  });
});

describe('without TLS', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, tls: false, overrides: { server: { max_header_size: 2048 } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it.each([
    ['a request it cannot parse', 'NOT HTTP AT ALL\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/],
    [
      'a head beyond server.max_header_size',
      `GET / HTTP/1.1\r\nX-Flood: ${'a'.repeat(4096)}\r\n\r\n`,
      /^HTTP\/1\.1 431 /,
    ],
  ])('answers %s, then closes the connection', async (_what, request, answer) => {
    const socket = net.connect(proxy.proxy.intake.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(request);
    const closed = await whenClosed(socket, 5_000, { secured: false });
    expect(closed.received).toMatch(answer);
    expect(closed.afterMs).not.toBe(Infinity);
  });
});

describe('server.allowed_networks over TLS', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { server: { allowed_networks: ['10.0.0.0/8'] } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('drops a client outside the list at connect, before any handshake', async () => {
    let serverHelloSeen = false;
    const attempt = tlsConnect(proxy.proxy.intake.port);
    attempt.socket.once('keylog', () => (serverHelloSeen = true));
    await expect(attempt.secure).rejects.toThrow();
    expect(attempt.state.secured).toBe(false);
    expect(serverHelloSeen).toBe(false);
  });
});

/** The first flight of a TLS client, as bytes: what a slow client would trickle. */
function captureClientHello(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const catcher = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        resolve(chunk);
        socket.destroy();
        catcher.close();
      });
    });
    catcher.listen(0, '127.0.0.1', () => {
      const address = catcher.address() as net.AddressInfo;
      const client = tls.connect({
        host: '127.0.0.1',
        port: address.port,
        servername: 'localhost',
        rejectUnauthorized: false,
      });
      client.on('error', () => undefined);
    });
    catcher.on('error', reject);
  });
}
