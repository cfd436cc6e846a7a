import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort } from '../../support/ports';
import { proxyEnv, spawnCli } from '../../support/spawn-cli';

/**
 * Secrets never printed (issue 14 item 6): every output (stdout and stderr) of every failure path of the CLI,
 * and --print-config, is searched for planted secrets, raw, base64 encoded (alone and as user:password, as an
 * Authorization header carries them) and percent-encoded. Config errors used to echo whole values: an
 * Elasticsearch URL with userinfo printed its password, a Redis URL its password, upstream.url its credential.
 */

const planted = {
  esUser: 'elastic-planted',
  esPassword: 'Pl4nted-ES-userinfo-pw',
  esPasswordKey: 'Pl4nted-ES-password-key',
  apiKey: 'planted-id:Pl4nted-ES-api-key',
  redisPassword: 'Pl4nted-redis-pw',
  upstreamPassword: 'Pl4nted-upstream-pw',
  upstreamToken: 'Pl4nted-upstream-token',
  secretToken: 'Pl4nted-agent-token',
  yamlPassword: 'Pl4nted-yaml-pw',
} as const;

function forms(secret: string): string[] {
  const b64 = Buffer.from(secret).toString('base64');
  return [secret, b64, b64.replace(/=+$/, ''), encodeURIComponent(secret)];
}

const forbidden = [
  ...Object.values(planted).flatMap(forms),
  ...forms(`${planted.esUser}:${planted.esPassword}`),
  ...forms('planted-id:Pl4nted-ES-api-key'),
  'Pl4nted-ES-api-key',
];

function expectNoSecret(output: string): void {
  for (const secret of forbidden) {
    if (output.includes(secret))
      throw new Error(`the output prints the planted secret ${JSON.stringify(secret)}:\n${output}`);
  }
}

async function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnCli(args, env);
  const timer = setTimeout(() => void child.stop('SIGKILL'), 60_000);
  const { code } = await child.exited;
  clearTimeout(timer);
  return { code, output: `${child.stdout}\n${child.stderr}` };
}

describe('secrets are never printed', () => {
  let dir: string;
  let closed: number;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'secrets-'));
    closed = await freePort();
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const esUserinfo = `https://${planted.esUser}:${planted.esPassword}@`;

  test.each([
    ['an invalid output.elasticsearch.hosts with userinfo', { APM_SIDECAR_ES_HOSTS: `${esUserinfo}es host:9200` }],
    [
      'an invalid queue.redis.url with a password',
      { APM_SIDECAR_REDIS_URL: `redis://:${planted.redisPassword}@bad host:6379` },
    ],
    [
      'an invalid upstream.url with a credential',
      { APM_SIDECAR_UPSTREAM_URL: `https://up:${planted.upstreamPassword}@bad host` },
    ],
    [
      'an upstream.url of the wrong scheme with a credential',
      { APM_SIDECAR_UPSTREAM_URL: `ftp://up:${planted.upstreamPassword}@host` },
    ],
    [
      'a password that is not a string',
      {
        APM_SIDECAR_ES_HOSTS: 'https://es:9200',
        APM_SIDECAR_ES_API_KEY: planted.apiKey,
        APM_SIDECAR_LOG_LEVEL: 'loud',
      },
    ],
  ])('%s: the config error names the key, not the secret', async (_name, env) => {
    const { code, output } = await run(
      ['proxy'],
      proxyEnv(`redis://127.0.0.1:${closed}`, { ...env, APM_SIDECAR_SECRET_TOKEN: planted.secretToken }),
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(/SIDECAR_ERR_CONFIG_INVALID/);
    expectNoSecret(output);
  });

  it('a config file that does not parse is reported by position, without the line that holds a password', async () => {
    const file = path.join(dir, 'broken.yml');
    fs.writeFileSync(
      file,
      `output:\n  elasticsearch:\n    password: "${planted.yamlPassword}\n    hosts: [https://es:9200\n`,
    );
    const { code, output } = await run(['proxy', '-c', file], {});
    expect(code).not.toBe(0);
    expect(output).toMatch(/does not parse/);
    expectNoSecret(output);
  });

  it('a Redis that cannot be reached: the failure names queue.redis.url, not its password', async () => {
    const { code, output } = await run(
      ['proxy'],
      proxyEnv(`redis://:${planted.redisPassword}@127.0.0.1:${closed}`, {
        APM_SIDECAR_SECRET_TOKEN: planted.secretToken,
      }),
    );
    expect(code).not.toBe(0);
    expect(output).toMatch(/SIDECAR_ERR_QUEUE_UNAVAILABLE/);
    expectNoSecret(output);
  });

  it('check against an unreachable Elasticsearch and Redis with credentials everywhere', async () => {
    const { code, output } = await run(['check'], {
      APM_SIDECAR_ES_HOSTS: `${esUserinfo}127.0.0.1:${closed}`,
      APM_SIDECAR_ES_USERNAME: planted.esUser,
      APM_SIDECAR_ES_PASSWORD: planted.esPasswordKey,
      APM_SIDECAR_REDIS_URL: `redis://:${planted.redisPassword}@127.0.0.1:${closed}`,
      APM_SIDECAR_SECRET_TOKEN: planted.secretToken,
      APM_SIDECAR_ES_TIMEOUT: '2s',
    });
    expect(code).not.toBe(0);
    expect(output.trim()).not.toBe('');
    expectNoSecret(output);
  });

  it('--print-config masks every secret, URL credentials included', async () => {
    const { code, output } = await run(['proxy', '--print-config'], {
      APM_SIDECAR_ES_HOSTS: `${esUserinfo}es.example:9200`,
      APM_SIDECAR_ES_PASSWORD: planted.esPasswordKey,
      APM_SIDECAR_ES_API_KEY: planted.apiKey,
      APM_SIDECAR_REDIS_URL: `redis://:${planted.redisPassword}@redis.example:6379`,
      APM_SIDECAR_UPSTREAM_URL: `https://up:${planted.upstreamPassword}@apm.example:8200`,
      APM_SIDECAR_UPSTREAM_SECRET_TOKEN: planted.upstreamToken,
      APM_SIDECAR_SECRET_TOKEN: planted.secretToken,
    });
    expect(code).toBe(0);
    expect(output).toContain('es.example:9200');
    expectNoSecret(output);
  });
});
