import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { LogSink } from '../../support/log-sink';
import { httpRequest, ProxyHarness } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { forwarderConfig, waitFor } from '../forwarder/support';

/** What one admin request answers, reduced to what must be alike on both processes. */
async function answer(url: string, method = 'GET'): Promise<{ status: number; type: string; body: unknown }> {
  const res = await httpRequest(url, { method });
  const type = String(res.headers['content-type']);
  return { status: res.status, type, body: type.startsWith('application/json') ? JSON.parse(res.body) : res.body };
}

const readyGauge = (metrics: string): string | undefined => /^apm_sidecar_ready\{[^}]*\} (\d)$/m.exec(metrics)?.[1];

describe('one admin server: the proxy and the forwarder answer /healthz, /readyz, /metrics alike', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;
  const forwarders: Forwarder[] = [];
  const dirs: string[] = [];
  let logs: LogSink;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis });
    logs = new LogSink();
  });
  afterAll(async () => {
    await Promise.all(forwarders.map((f) => f.close()));
    await proxy?.close();
    await redis?.destroy();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function forwarder(overrides: Record<string, unknown>): Promise<Forwarder> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-'));
    dirs.push(dir);
    const config = forwarderConfig(redis.url, `q-${randomUUID()}`, undefined, { path: { data: dir }, ...overrides });
    const started = await startForwarder(config, logs.logger('forwarder'));
    forwarders.push(started);
    return started;
  }

  it('same status, type and body for every path and method; readiness is {ready, reasons, details}', async () => {
    const fwd = await forwarder({});
    await waitFor('the forwarder ready', () => fwd.readiness().ready);
    const bases = { proxy: proxy.adminUrl, forwarder: `http://127.0.0.1:${fwd.admin.port}` };
    const probes = [
      ['/healthz', 'GET'],
      ['/healthz', 'POST'],
      ['/readyz', 'DELETE'],
      ['/nope', 'GET'],
    ] as const;
    for (const [p, method] of probes) {
      const both = await Promise.all(Object.values(bases).map((base) => answer(`${base}${p}`, method)));
      expect({ p, method, answer: both[1] }).toEqual({ p, method, answer: both[0] });
    }
    expect(await answer(`${bases.proxy}/healthz`, 'POST')).toEqual({
      status: 405,
      type: 'application/json',
      body: { error: 'method not allowed' },
    });
    expect(await answer(`${bases.forwarder}/nope`)).toEqual({
      status: 404,
      type: 'application/json',
      body: { error: 'not found' },
    });
    for (const base of Object.values(bases)) {
      const ready = await answer(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(Object.keys(ready.body as object)).toEqual(['ready', 'reasons', 'details']);
      expect(ready.body).toMatchObject({ ready: true, reasons: [] });
      expect(readyGauge((await httpRequest(`${base}/metrics`)).body)).toBe('1');
    }
  });

  it('a forwarder that cannot reach Elasticsearch answers 503 with a reason, and apm_sidecar_ready is 0', async () => {
    const fwd = await forwarder({
      output: { elasticsearch: { hosts: ['http://127.0.0.1:1'], backoff: { init: '1s', max: '5s' } } },
    });
    const base = `http://127.0.0.1:${fwd.admin.port}`;
    await waitFor('the precondition failed once', () => fwd.readiness().details.code !== 'starting', 20_000);
    const ready = await answer(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      ready: false,
      reasons: [expect.stringMatching(/Elasticsearch|127\.0\.0\.1:1/) as unknown],
      details: { code: 'SIDECAR_ERR_ES_UNAVAILABLE' },
    });
    expect(readyGauge((await httpRequest(`${base}/metrics`)).body)).toBe('0');
  });
});
