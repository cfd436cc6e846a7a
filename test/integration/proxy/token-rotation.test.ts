import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../../config/load';
import { parseIntakeJobData } from '../../../queue/contract';
import { eventually, ProxyHarness } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

/**
 * Token identity that survives rotation and reload without a restart (issue 14 item 10): the proxy watches
 * server.auth.secret_tokens_file (set for you by APM_SIDECAR_SECRET_TOKEN_FILE) as it watches certificates;
 * jobs record the token's name, not its position; a broken file keeps the previous tokens.
 */

const body =
  '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}\n{"span":{"id":"a","trace_id":"b","parent_id":"c","name":"n","type":"t","timestamp":1764547200000000,"duration":1}}\n';

describe('secret tokens reloaded from their file', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;
  let dir: string;
  let file: string;

  beforeAll(async () => {
    redis = await RedisServer.start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokens-'));
    file = path.join(dir, 'tokens');
    fs.writeFileSync(file, '# agents\nfleet-a token-a-1234\n');
    proxy = await ProxyHarness.start({
      redis,
      overrides: {
        server: { auth: { secret_tokens: [], secret_tokens_file: file }, ssl: { reload_interval: '100ms' } },
      },
    });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const send = (token: string): ReturnType<ProxyHarness['request']> =>
    proxy.request('/intake/v2/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body,
    });

  async function lastIdentity(): Promise<unknown> {
    const jobs = await proxy.queue.getJobs(['waiting']);
    const newest = jobs.sort((a, b) => b.timestamp - a.timestamp)[0];
    return newest === undefined ? undefined : parseIntakeJobData(newest.data).identity;
  }

  it('accepts the new token and refuses the old one after the file changes, without a restart', async () => {
    expect((await send('token-a-1234')).status).toBe(202);
    expect(await lastIdentity()).toEqual({ kind: 'secret_token', id: 'fleet-a' });
    fs.writeFileSync(file, 'fleet-b token-b-5678\n');
    await eventually(
      async () => ((await send('token-a-1234')).status === 401 ? true : undefined),
      10_000,
      'the old token refused',
    );
    expect((await send('token-b-5678')).status).toBe(202);
    expect(await lastIdentity()).toEqual({ kind: 'secret_token', id: 'fleet-b' });
    expect(proxy.sink.lines.some((l) => l.msg === 'secret tokens reloaded')).toBe(true);
    expect(JSON.stringify(proxy.sink.lines)).not.toContain('token-b-5678');
  });

  it('keeps the previous tokens when the file is emptied by mistake', async () => {
    fs.writeFileSync(file, '\n');
    await eventually(
      () => (proxy.sink.lines.some((l) => /holds no token/.test(String(l.msg))) ? true : undefined),
      10_000,
      'the warning',
    );
    expect((await send('token-b-5678')).status).toBe(202);
    proxy.sink.assertNoUnexpectedErrors();
  });

  it('APM_SIDECAR_SECRET_TOKEN_FILE sets the watched file and reads named tokens', () => {
    const envFile = path.join(dir, 'env-tokens');
    fs.writeFileSync(envFile, 'one plain-token-1\nplain-token-2\n');
    const { config } = loadConfig({ env: { APM_SIDECAR_SECRET_TOKEN_FILE: envFile } });
    expect(config.server.auth.secret_tokens_file).toBe(envFile);
    expect(config.server.auth.secret_tokens).toEqual([{ name: 'one', token: 'plain-token-1' }, 'plain-token-2']);
  });
});
