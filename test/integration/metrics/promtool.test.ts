import { spawnSync } from 'node:child_process';
import { startForwarder, type Forwarder } from '../../../forwarder/forwarder';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { createWriter, forwarderConfig, metadataLine, transactionLine, waitFor } from '../forwarder/support';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
if (!promtool) console.log('promtool absent (Debian package prometheus): skipping the promtool check of /metrics');
const maybe = promtool ? describe : describe.skip;

/** promtool check metrics on one exposition: its exit status and what it said. */
function checkMetrics(exposition: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

maybe('promtool check metrics on both processes\' /metrics (real redis-server, Elasticsearch stand-in)', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let proxy: ProxyHarness;
  let forwarder: Forwarder;
  let logs: LogSink;

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
    proxy = await ProxyHarness.start({ redis });
    logs = new LogSink();
    const writer = await createWriter(standin);
    forwarder = await startForwarder(forwarderConfig(redis.url, proxy.config.queue.name, { standin, writer }), logs.logger('forwarder'));
  });
  afterAll(async () => {
    await forwarder?.close();
    await proxy?.close();
    await standin?.close();
    await redis?.destroy();
  });

  it('passes on the proxy and the forwarder after an event went through both', async () => {
    const body = `${metadataLine}\n${transactionLine(1)}\n`;
    const res = await proxy.request('/intake/v2/events', { method: 'POST', headers: { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-ndjson' }, body });
    expect(res.status).toBe(202);
    await waitFor('the event indexed', () => standin.documents('traces-apm*').length === 1);
    const proxyMetrics = (await proxy.admin('/metrics')).body;
    const forwarderMetrics = await (await fetch(`http://127.0.0.1:${forwarder.adminPort}/metrics`)).text();
    expect(proxyMetrics).toContain('apm_sidecar_intake_requests_total{');
    expect(forwarderMetrics).toContain('apm_sidecar_documents_total{');
    expect({ proxy: checkMetrics(proxyMetrics) }).toEqual({ proxy: { status: 0, output: '' } });
    expect({ forwarder: checkMetrics(forwarderMetrics) }).toEqual({ forwarder: { status: 0, output: '' } });
    proxy.sink.assertNoUnexpectedErrors();
    logs.assertNoUnexpectedErrors();
  });
});
