import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

/**
 * An idle proxy polls Redis only every few seconds (idle cost, issue #16), so after an idle spell its last view
 * of the queue may be stale. A stale refusal must not be trusted: a queue that was full and has drained while
 * nothing came in admits the very first request after it (issue #13: "the proxy admits again once the queue is
 * drained"), without the agent having to retry.
 */
const headers = { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-ndjson' };
const metadata = '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}';
const body = (seq: number): string =>
  `${metadata}\n${JSON.stringify({
    transaction: {
      id: seq.toString(16).padStart(16, '0'),
      trace_id: seq.toString(16).padStart(32, '0'),
      type: 'request',
      duration: 1,
      span_count: { started: 0 },
    },
  })}\n`;

describe('admission after an idle spell', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { queue: { high_water_mark: { jobs: 2 } } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('admits the first request once a full queue drained while the proxy was idle', async () => {
    // Fill the queue to its mark (no forwarder takes the jobs), until the proxy sheds.
    let status = 202;
    for (let seq = 0; status === 202 && seq < 50; seq++) {
      status = (await proxy.request('/intake/v2/events', { method: 'POST', headers, body: body(seq) })).status;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    expect(status).toBe(503);
    // Idle (nothing admitted for over 2 s: the proxy polls every 5 s from then on), and the queue drains meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await proxy.queue.drain();
    const first = await proxy.request('/intake/v2/events', { method: 'POST', headers, body: body(99) });
    expect({ status: first.status, body: first.body }).toEqual({ status: 202, body: '' });
    proxy.sink.assertNoUnexpectedErrors();
  }, 60_000);
});
