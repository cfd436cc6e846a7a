import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { tokenIdentity } from '../../proxy/auth/secret-tokens';
import { createWriter, installSetupTemplates, waitFor } from '../integration/forwarder/support';
import { testPki } from '../support/certs';
import { EsStandin } from '../support/es-standin/server';
import { testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { childEnv, proxyEnv, spawnCli, SpawnedProcess } from '../support/spawn-cli';
import { CliProcess, forwarderProcessConfig } from './forwarder/processes';

interface ExportOutcome {
  code: number;
  error?: string;
}
interface AppResult {
  traceId: string;
  traces: ExportOutcome;
  metrics: ExportOutcome;
  logs: ExportOutcome;
}

const success = 0;
const failed = 1;

/** Runs otlp-exporter-app.ts (the SDK's exporters) in a child process; its one JSON line is the export results. */
async function exportOnce(format: 'protobuf' | 'json' | 'grpc', base: string, token: string): Promise<AppResult> {
  const root = path.resolve(__dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'otlp-exporter-app.ts')], {
    cwd: root,
    env: childEnv({ OTLP_BASE_URL: base, OTLP_TOKEN: token, OTLP_FORMAT: format, CA_FILE: testPki().caFile }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app = new SpawnedProcess(child);
  const exit = await app.exited;
  if (exit.code !== 0) throw new Error(`the exporter app exited ${String(exit.code)}:\n${app.stdout}\n${app.stderr}`);
  const line = app.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as AppResult;
}

describe('the OpenTelemetry JS SDK exporters (OTLP/HTTP protobuf and JSON, gRPC) against the built proxy and forwarder (TLS, token, stand-in)', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let proxy: SpawnedProcess | undefined;
  let forwarder: CliProcess | undefined;
  let base = '';

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
    const writer = await createWriter(standin);
    // The SDK's histogram names the `histogram` dynamic template: the templates of `apm-sidecar setup` define it.
    await installSetupTemplates(standin);
    const queueName = `otlp-e2e-${randomUUID()}`;
    proxy = spawnCli(['proxy'], proxyEnv(redis.url, { APM_SIDECAR_QUEUE: queueName, APM_SIDECAR_OTLP_GRPC: 'true' }));
    await proxy.waitFor(/"message":"intake listening"/);
    base = `https://localhost:${Number(proxy.logLines().find((l) => l.msg === 'intake listening')?.port)}`;
    forwarder = await CliProcess.start(
      'otlp-fwd',
      'forwarder',
      forwarderProcessConfig(redis.url, queueName, { url: standin.url, caFile: standin.caFile, ...writer }),
    );
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await forwarder?.destroy();
    await standin?.close();
    await redis?.destroy();
  });

  it.each(['protobuf', 'json', 'grpc'] as const)(
    'OTLP %s: spans, metrics and logs exported with success become APM documents',
    async (format) => {
      const metricsBefore = standin.documents('metrics-apm.app.otlp_checkout-*').length;
      const logsBefore = standin.documents('logs-apm.app.otlp_checkout-*').length;
      const result = await exportOnce(format, base, testToken);
      expect(result).toMatchObject({ traces: { code: success }, metrics: { code: success }, logs: { code: success } });
      const { traceId } = result;

      const ofTrace = (): Array<Record<string, unknown>> =>
        standin
          .documents('*')
          .map((d) => d.source)
          .filter((s) => (s.trace as { id?: string } | undefined)?.id === traceId);
      await waitFor(`the ${format} trace's 4 documents`, () => ofTrace().length === 4, 30_000);
      const events = ofTrace()
        .map(
          (s) =>
            `${(s.processor as { event?: string } | undefined)?.event}:${(s.data_stream as { dataset: string }).dataset}`,
        )
        .sort();
      expect(events).toEqual(['error:apm.error', 'span:apm', 'span:apm', 'transaction:apm']);
      const transaction = ofTrace().find((s) => (s.processor as { event: string }).event === 'transaction');
      expect(transaction).toMatchObject({
        transaction: { name: 'GET /cart', type: 'request', result: 'HTTP 2xx' },
        service: {
          name: 'otlp-checkout',
          version: '1.4.2',
          environment: 'staging',
          language: { name: 'nodejs' },
          framework: { name: 'checkout-instrumentation' },
        },
        agent: { name: 'opentelemetry/nodejs' },
        event: { outcome: 'success' },
        apm_sidecar: { identity: { kind: 'secret_token', id: tokenIdentity(testToken) } },
      });
      const db = ofTrace().find((s) => (s.span as { type?: string } | undefined)?.type === 'db');
      expect(db).toMatchObject({
        span: { subtype: 'postgresql', db: { statement: 'SELECT * FROM carts WHERE id = $1' } },
      });

      await waitFor(
        `${format} metrics and logs`,
        () =>
          standin.documents('metrics-apm.app.otlp_checkout-*').length === metricsBefore + 3 &&
          standin.documents('logs-apm.app.otlp_checkout-*').length === logsBefore + 2,
        30_000,
      );
      const metricDocs = standin
        .documents('metrics-apm.app.otlp_checkout-*')
        .slice(metricsBefore)
        .map((d) => d.source);
      expect(metricDocs.some((m) => m['orders.placed'] === 5)).toBe(true);
      expect(metricDocs.some((m) => m['queue.depth'] === 17)).toBe(true);
      expect(metricDocs.find((m) => m['checkout.duration'] !== undefined)?.['checkout.duration']).toMatchObject({
        counts: [1],
      });
      const messages = standin
        .documents('logs-apm.app.otlp_checkout-*')
        .slice(logsBefore)
        .map((d) => d.source.message);
      expect(messages).toEqual(expect.arrayContaining(['cart loaded', 'payment failed']));
    },
    90_000,
  );

  it('a wrong token fails the export (401) and nothing is indexed', async () => {
    const before = standin.counters.documentsStored;
    const result = await exportOnce('protobuf', base, 'not-the-token');
    expect(result.traces.code).toBe(failed);
    expect(result.traces.error).toMatch(/401|Unauthorized/i);
    expect(standin.counters.documentsStored).toBe(before);
    expect(proxy?.logLines().filter((l) => l.level === 'error')).toEqual([]);
    expect(forwarder?.errors()).toEqual([]);
    expect(proxy?.stdout).not.toContain(testToken);
  });
});
