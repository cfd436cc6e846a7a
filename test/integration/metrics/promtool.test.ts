import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { createWriter, forwarderConfig, metadataLine, transactionLine, waitFor } from '../forwarder/support';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
// .ci/run installs promtool and sets this, so in CI these checks cannot quietly become skips.
if (!promtool && process.env.APM_SIDECAR_TEST_REQUIRE_PROMTOOL === '1')
  throw new Error('APM_SIDECAR_TEST_REQUIRE_PROMTOOL=1 but promtool is not on PATH (Debian package prometheus)');
if (!promtool)
  console.log(
    'promtool absent (Debian package prometheus): skipping promtool check metrics / check rules / test rules',
  );
const withPromtool = promtool ? it : it.skip;
const deployDir = path.join(__dirname, '../../../deploy/prometheus');

/** promtool check metrics on one exposition: its exit status and what it said. */
function checkMetrics(exposition: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Every series name an exposition can answer a query with (a histogram's _bucket, _sum and _count too). */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = '', type] = m;
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The metric names a PromQL expression reads: ours (apm_sidecar_*) and Prometheus's own `up`. */
function queriedNames(expr: string): string[] {
  return Array.from(expr.matchAll(/\b(apm_sidecar_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g), (m) => m[1] ?? '');
}

function dashboardExprs(): string[] {
  const dashboard = JSON.parse(fs.readFileSync(path.join(deployDir, 'grafana-dashboard.json'), 'utf8')) as {
    panels: Array<{ targets: Array<{ expr: string }> }>;
  };
  return dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
}

function ruleExprs(): string[] {
  return Array.from(
    fs.readFileSync(path.join(deployDir, 'alerts.yml'), 'utf8').matchAll(/^\s+expr: (.+)$/gm),
    (m) => m[1] ?? '',
  );
}

describe("promtool check metrics on both processes' /metrics (real redis-server, Elasticsearch stand-in)", () => {
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
    forwarder = await startForwarder(
      forwarderConfig(redis.url, proxy.config.queue.name, { standin, writer }),
      logs.logger('forwarder'),
    );
  });
  afterAll(async () => {
    await forwarder?.close();
    await proxy?.close();
    await standin?.close();
    await redis?.destroy();
  });

  let exported = new Set<string>();

  withPromtool('deploy/prometheus/alerts.yml passes promtool check rules and its unit tests (alerts.test.yml)', () => {
    const check = spawnSync('promtool', ['check', 'rules', 'alerts.yml'], { cwd: deployDir, encoding: 'utf8' });
    expect(`exit ${String(check.status)}: ${check.stdout}${check.stderr}`).toMatch(
      /^exit 0: [\s\S]*SUCCESS: 7 rules found/,
    );
    const test = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: deployDir, encoding: 'utf8' });
    expect(`exit ${String(test.status)}: ${test.stdout}${test.stderr}`).toMatch(/^exit 0: [\s\S]*SUCCESS/);
  });

  async function scrape(): Promise<{ proxyMetrics: string; forwarderMetrics: string }> {
    const proxyMetrics = (await proxy.admin('/metrics')).body;
    const forwarderMetrics = await (await fetch(`http://127.0.0.1:${forwarder.admin.port}/metrics`)).text();
    exported = new Set([...exportedNames(proxyMetrics), ...exportedNames(forwarderMetrics), 'up']);
    return { proxyMetrics, forwarderMetrics };
  }

  it('every query of the Grafana dashboard and the alert rules names a metric the processes export', async () => {
    await scrape();
    const exprs = [...dashboardExprs(), ...ruleExprs()];
    expect(exprs.length).toBeGreaterThan(10);
    const named = exprs.flatMap((e) => queriedNames(e).map((name) => ({ expr: e, name })));
    expect(named.length).toBeGreaterThanOrEqual(exprs.length);
    expect(exprs.filter((e) => queriedNames(e).length === 0)).toEqual([]);
    expect(named.filter(({ name }) => !exported.has(name))).toEqual([]);
    expect(exported.has('apm_sidecar_nosuch_total')).toBe(false);
  });

  withPromtool('passes on the proxy and the forwarder after an event went through both', async () => {
    const body = `${metadataLine}\n${transactionLine(1)}\n`;
    const res = await proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-ndjson' },
      body,
    });
    expect(res.status).toBe(202);
    await waitFor('the event indexed', () => standin.documents('traces-apm*').length === 1);
    const { proxyMetrics, forwarderMetrics } = await scrape();
    expect(proxyMetrics).toContain('apm_sidecar_intake_requests_total{');
    expect(forwarderMetrics).toContain('apm_sidecar_documents_total{');
    expect({ proxy: checkMetrics(proxyMetrics) }).toEqual({ proxy: { status: 0, output: '' } });
    expect({ forwarder: checkMetrics(forwarderMetrics) }).toEqual({ forwarder: { status: 0, output: '' } });
    proxy.sink.assertNoUnexpectedErrors();
    logs.assertNoUnexpectedErrors();
  });
});
