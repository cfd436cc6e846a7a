import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type ComposeService, knownSidecarVariables, readComposeFile, repoRoot } from './deploy-files';

// deploy/docker-compose.sentinel.yml, the override that puts the queue on Redis Sentinel (1 master + 2 replicas + 3
// sentinels): checked statically here, and merged with the base file by Compose v2 itself where one is installed.

const overrideFile = 'deploy/docker-compose.sentinel.yml';
const override = readComposeFile(overrideFile);
const base = readComposeFile('deploy/docker-compose.yml');

function service(name: string): ComposeService {
  const found = override.services.get(name);
  if (found === undefined) throw new Error(`${overrideFile} has no service ${name}`);
  return found;
}

const flag = (args: readonly string[], name: string): string | undefined => args[args.indexOf(name) + 1];
const replicas = ['redis-replica-1', 'redis-replica-2'];
const sentinels = ['redis-sentinel-1', 'redis-sentinel-2', 'redis-sentinel-3'];

/** Compose v2 as the compose suite finds it (APM_SIDECAR_COMPOSE, or the CI stage's cached build), if any. */
function composeBinary(): string | undefined {
  const candidates = [
    process.env.APM_SIDECAR_COMPOSE,
    path.join(os.homedir(), '.cache', 'apm-sidecar-ci', 'compose', 'v2.40.3', 'docker-compose'),
  ];
  return candidates.find((c): c is string => c !== undefined && c !== '' && fs.existsSync(c));
}

describe('deploy/docker-compose.sentinel.yml: the queue on Redis Sentinel', () => {
  it('keeps every Redis safe: noeviction, AOF, the password from the secrets volume, min-replicas-to-write 1', () => {
    for (const name of ['redis', ...replicas]) {
      const args = service(name).command;
      expect(args.slice(0, 2)).toEqual(['redis-server', '/usr/local/etc/redis/redis.conf']);
      expect(flag(args, '--maxmemory-policy')).toBe('noeviction');
      expect(flag(args, '--appendonly')).toBe('yes');
      expect(flag(args, '--min-replicas-to-write')).toBe('1');
      expect(args.filter((a) => a.includes('PASSWORD') || a === '--requirepass')).toEqual([]);
    }
    for (const name of replicas) {
      expect(flag(service(name).command, '--replicaof')).toBe('redis');
      expect(service(name).volumes).toContain('redis-secrets:/usr/local/etc/redis:ro');
      expect(service(name).healthcheck?.test.join(' ')).toMatch(/ping/);
    }
    // A replica authenticates to its master (and a demoted master to the new one) with the same password.
    expect(fs.readFileSync(path.join(repoRoot, 'deploy/scripts/write-secrets.sh'), 'utf8')).toMatch(/masterauth/);
  });

  it('runs three sentinels with a quorum of two over the master, each with its own writable config', () => {
    for (const name of sentinels) {
      const s = service(name);
      const script = s.command.join('\n');
      expect(script).toMatch(/sentinel monitor apm-sidecar redis 6379 2/);
      expect(script).toMatch(/sentinel auth-pass apm-sidecar/);
      expect(script).toMatch(/--sentinel/);
      expect(s.volumes.some((v) => v.endsWith(':/data'))).toBe(true);
      expect(override.volumes.has(s.volumes.find((v) => v.endsWith(':/data'))?.split(':')[0] ?? '')).toBe(true);
      expect(s.healthcheck?.test.join(' ')).toMatch(/get-master-addr-by-name apm-sidecar/);
    }
  });

  it('points proxies and forwarders at the sentinels with configuration keys that exist, after they are healthy', () => {
    const known = knownSidecarVariables();
    for (const name of ['proxy', 'forwarder']) {
      const s = service(name);
      expect(s.environment.APM_SIDECAR_REDIS_SENTINELS?.split(',')).toEqual(sentinels.map((n) => `${n}:26379`));
      expect(s.environment.APM_SIDECAR_REDIS_SENTINEL_MASTER).toBe('apm-sidecar');
      for (const key of Object.keys(s.environment)) expect(known).toContain(key);
      for (const n of sentinels) expect(s.dependsOn.get(n)).toBe('service_healthy');
      // The base file's service keeps its URL file: with sentinels set it carries only the password.
      expect(base.services.get(name)?.environment.APM_SIDECAR_REDIS_URL_FILE).toBeDefined();
    }
  });

  const compose = composeBinary();
  (compose === undefined ? it.skip : it)('is accepted by Compose v2 merged over the base file (`config`)', () => {
    if (compose === undefined) return;
    const result = spawnSync(compose, ['-f', 'deploy/docker-compose.yml', '-f', overrideFile, 'config', '--services'], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, ELASTIC_PASSWORD: 'x', REDIS_PASSWORD: 'y', APM_SIDECAR_SECRET_TOKEN: 'z' },
    });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(
      result.stdout
        .split('\n')
        .filter((l) => /^redis/.test(l))
        .sort(),
    ).toEqual(['redis', ...replicas, ...sentinels].sort());
  });
});
