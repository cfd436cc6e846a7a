import fs from 'node:fs';
import path from 'node:path';

import { configChecks } from '../../../cli/check/checks';
import { configLeaves } from '../../../config/leaves';
import { loadConfig } from '../../../config/load';
import { requireRedisTarget } from '../../../config/redis-target';
import { durationKeys, runtimeConfig } from '../../../config/runtime';
import { createAgentConfigEndpoint } from '../../../proxy/agent-config';
import { createApiKeyVerifier } from '../../../proxy/auth/api-key-verifier';
import { assertProxyStartable } from '../../../proxy/preflight';
import { LogSink } from '../../support/log-sink';

describe('the runtime view: config parsed once, right after validation', () => {
  it('has every duration key of the schema, in ms', () => {
    expect([...durationKeys].sort()).toEqual(
      configLeaves()
        .filter((leaf) => leaf.format === 'duration')
        .map((leaf) => leaf.key)
        .sort(),
    );
    const { config } = loadConfig({ env: { APM_SIDECAR_SERVER_READ_TIMEOUT: '1m' } });
    const view = runtimeConfig(config);
    expect(view.ms['server.read_timeout']).toBe(60_000);
    expect(view.ms['server.shutdown_timeout']).toBe(30_000);
    expect(view.ms['output.elasticsearch.flush_interval']).toBe(1_000);
    expect(runtimeConfig(config)).toBe(view);
  });

  it('holds the listen addresses as host and port', () => {
    const { config } = loadConfig({ env: { APM_SIDECAR_HOST: ':8300', APM_SIDECAR_ADMIN_HOST: '[::1]:8301' } });
    expect(runtimeConfig(config).listen).toEqual({
      intake: { host: '0.0.0.0', port: 8300 },
      admin: { host: '::1', port: 8301 },
    });
  });

  it('holds server.allowed_networks and trusted_proxies as address blocks, parsed by config/ alone', () => {
    const { config } = loadConfig({
      env: {},
      overrides: { server: { allowed_networks: ['10.0.0.0/8', '::1'], trusted_proxies: ['192.168.0.7'] } },
    });
    expect(runtimeConfig(config).networks).toEqual({
      allowed: [
        { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
        { address: '::1', prefix: 128, family: 'ipv6' },
      ],
      trustedProxies: [{ address: '192.168.0.7', prefix: 32, family: 'ipv4' }],
    });
    const root = path.join(__dirname, '..', '..', '..');
    const parsers = ['cli', 'elasticsearch', 'forwarder', 'proxy', 'queue', 'tls'].flatMap((dir) =>
      fs
        .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && fs.readFileSync(path.join(root, dir, f), 'utf8').includes('parseCidr('))
        .map((f) => path.join(dir, f)),
    );
    expect(parsers).toEqual([]);
  });

  it('refuses a port over 65535 at validation, by the one host:port parser', () => {
    expect(() => loadConfig({ env: { APM_SIDECAR_HOST: '127.0.0.1:70000' } })).toThrow(/server\.host.*not "host:port"/);
  });

  it('says once, for every role, that queue.redis.url is not set', () => {
    const { config } = loadConfig({ env: {} });
    expect(() => requireRedisTarget(config, 'forwarder')).toThrow(
      'queue.redis.url is not set (nor queue.redis.sentinel.nodes): the forwarder needs the queue',
    );
  });
});

describe('`apm-sidecar check` runs the assertions the proxy runs', () => {
  it('fails on server.otlp.grpc without TLS, which the proxy refuses', () => {
    const { config } = loadConfig({ env: { APM_SIDECAR_OTLP_GRPC: 'true' } });
    const sink = new LogSink();
    expect(() => assertProxyStartable(config, sink.logger('proxy'))).toThrow(/server\.otlp\.grpc needs TLS/);
    expect(configChecks(config).find((r) => r.name === 'proxy')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/the proxy will refuse to start: .*server\.otlp\.grpc needs TLS/) as unknown,
    });
  });

  it("fails on clear-text credentials, and warns with the proxy's own words when allow_insecure is set", () => {
    const refused = loadConfig({ env: { APM_SIDECAR_SECRET_TOKEN: 'abcdefghijklmnop' } }).config;
    expect(configChecks(refused).find((r) => r.name === 'proxy')).toMatchObject({ status: 'fail' });
    const allowed = loadConfig({
      env: { APM_SIDECAR_SECRET_TOKEN: 'abcdefghijklmnop', APM_SIDECAR_SERVER_AUTH_ALLOW_INSECURE: 'true' },
    }).config;
    const sink = new LogSink();
    assertProxyStartable(allowed, sink.logger('proxy'));
    const logged = sink.lines.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(logged).toHaveLength(1);
    const checks = configChecks(allowed).filter((r) => r.name === 'proxy');
    expect(checks).toEqual([
      { name: 'proxy', status: 'ok', detail: 'starts without TLS' },
      { name: 'proxy', status: 'warn', detail: logged[0] },
    ]);
  });
});

describe('`apm-sidecar check` refuses what the proxy refuses as it builds its parts', () => {
  const insecure = { APM_SIDECAR_SERVER_AUTH_ALLOW_INSECURE: 'true' };
  it.each([
    [
      'agent_config.source file without agent_config.file',
      { APM_SIDECAR_AGENT_CONFIG_SOURCE: 'file' },
      'agent_config.source is file but agent_config.file is not set',
    ],
    [
      'agent_config.source elasticsearch without output.elasticsearch.hosts',
      { APM_SIDECAR_AGENT_CONFIG_SOURCE: 'elasticsearch' },
      'agent_config.source is elasticsearch but output.elasticsearch.hosts is not set',
    ],
    [
      'agent_config.source upstream without upstream.url',
      { APM_SIDECAR_AGENT_CONFIG_SOURCE: 'upstream' },
      'agent_config.source is upstream but upstream.url is not set',
    ],
    [
      'API keys without output.elasticsearch.hosts',
      { APM_SIDECAR_API_KEY_ENABLED: 'true', ...insecure },
      'server.auth.api_key.enabled needs output.elasticsearch.hosts to verify keys',
    ],
  ])('%s', (_what, env, message) => {
    const { config } = loadConfig({ env });
    const logger = new LogSink().logger('proxy');
    const build = (): unknown =>
      config.server.auth.api_key.enabled
        ? createApiKeyVerifier(config, logger)
        : createAgentConfigEndpoint(config, { logger });
    expect(build).toThrow(message);
    expect(configChecks(config).find((r) => r.name === 'proxy')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        `the proxy will refuse to start: SIDECAR_ERR_CONFIG_INVALID: ${message}`,
      ) as unknown,
    });
  });
});

describe('durations are parsed by config/ alone', () => {
  it('gives the Elasticsearch client its timeout in ms, and no product file outside config/ parses a duration', () => {
    const { config } = loadConfig({ env: {}, overrides: { output: { elasticsearch: { timeout: '7s' } } } });
    expect(runtimeConfig(config).elasticsearch).toMatchObject({ timeout: '7s', timeoutMs: 7_000 });
    const root = path.join(__dirname, '..', '..', '..');
    const callers = ['cli', 'core', 'elasticsearch', 'forwarder', 'proxy', 'queue', 'tls'].flatMap((dir) =>
      fs
        .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && path.join(dir, f) !== path.join('core', 'duration.ts'))
        .filter((f) => fs.readFileSync(path.join(root, dir, f), 'utf8').includes('parseDuration'))
        .map((f) => path.join(dir, f)),
    );
    expect(callers).toEqual([]);
  });
});
