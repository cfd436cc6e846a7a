import tls from 'node:tls';

import { testPki } from '../../support/certs';
import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

const metadata = '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}\n';

/** A raw TLS connection that sends a chunked POST's headers and first chunk, then stalls; resolves with what the server sent. */
function stalledUpload(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = tls.connect({ host: '127.0.0.1', port, ca: testPki().ca.cert, servername: 'localhost' }, () => {
      socket.write(
        'POST /intake/v2/events HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n' +
          `Authorization: Bearer ${testToken}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `${metadata.length.toString(16)}\r\n${metadata}\r\n`,
      );
    });
    socket.on('data', (c: Buffer) => (received += c.toString('utf8')));
    socket.on('end', () => resolve(received));
    socket.on('close', () => resolve(received));
    socket.on('error', (err: Error) => (received === '' ? reject(err) : resolve(received)));
  });
}

describe.each([
  ['server.read_timeout', { read_timeout: '1s', idle_timeout: '30s' }],
  ['server.idle_timeout', { read_timeout: '30s', idle_timeout: '1s' }],
])('a sender that stalls past %s', (_name, timeouts) => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { server: timeouts } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('is cut off with a clean 408 and the connection closed, and nothing is queued', async () => {
    const answer = await stalledUpload(proxy.proxy.intake.port);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('"error": "request timed out"');
    expect(await proxy.queue.getJobs(['waiting'])).toHaveLength(0);
    proxy.sink.assertNoUnexpectedErrors();
  });
});
