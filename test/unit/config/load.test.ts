import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../../config/load';
import { configError } from '../../support/config-error';

function tmpFile(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-config-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

describe('loadConfig', () => {
  it('gives the SPEC defaults with no file and no environment', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.server.host).toBe('127.0.0.1:8200');
    expect(config.server.max_event_size).toBe(307200);
    expect(config.server.read_timeout).toBe('30s');
    expect(config.server.ssl.supported_protocols).toEqual(['TLSv1.2', 'TLSv1.3']);
    expect(config.queue.name).toBe('apm-intake');
    expect(config.queue.durability).toBe('applied');
    expect(config.output.elasticsearch.flush_bytes).toBe(5 * 1024 * 1024);
    expect(config.admin.host).toBe('127.0.0.1:8201');
    expect(config.data_streams.namespace).toBe('default');
  });

  it('reads YAML and lets the environment win, splitting comma lists', () => {
    const file = tmpFile('c.yml', 'server:\n  host: 0.0.0.0:9200\n  max_event_size: 1000\nqueue:\n  name: from-file\n');
    const { config } = loadConfig({ file, env: { APM_SIDECAR_QUEUE: 'from-env', APM_SIDECAR_SECRET_TOKEN: 'a, b' } });
    expect(config.server.host).toBe('0.0.0.0:9200');
    expect(config.server.max_event_size).toBe(1000);
    expect(config.queue.name).toBe('from-env');
    expect(config.server.auth.secret_tokens).toEqual(['a', 'b']);
  });

  it('reads JSON files given by APM_SIDECAR_CONFIG', () => {
    const file = tmpFile('c.json', JSON.stringify({ log: { level: 'debug' } }));
    expect(loadConfig({ env: { APM_SIDECAR_CONFIG: file } }).config.log.level).toBe('debug');
  });

  it('reads secrets from *_FILE variables', () => {
    const secret = tmpFile('token', 's3cret\n');
    const { config, printable } = loadConfig({
      env: { APM_SIDECAR_SECRET_TOKEN_FILE: secret, APM_SIDECAR_ES_PASSWORD_FILE: secret },
    });
    expect(config.server.auth.secret_tokens).toEqual(['s3cret']);
    expect(config.output.elasticsearch.password).toBe('s3cret');
    expect(printable).not.toContain('s3cret');
  });

  it('refuses an unknown key, naming it and the fix', () => {
    const file = tmpFile('c.yml', 'server:\n  hots: 1.2.3.4:1\n');
    const err = configError(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('SIDECAR_ERR_CONFIG_INVALID');
    expect(err.message).toContain('server.hots');
    expect(err.message).toMatch(/remove it or check its spelling/);
  });

  it('refuses an unknown APM_SIDECAR_ variable', () => {
    const err = configError(() => loadConfig({ env: { APM_SIDECAR_SECRET_TOKNE: 'x' } }));
    expect(err.message).toContain('APM_SIDECAR_SECRET_TOKNE');
  });

  it.each([
    ['server:\n  read_timeout: soon\n', 'server.read_timeout'],
    ['server:\n  host: nohost\n', 'server.host'],
    ['server:\n  allowed_networks: ["10.0.0.0/33"]\n', 'server.allowed_networks'],
    ['queue:\n  durability: eventually\n', 'queue.durability'],
    ['server:\n  max_event_size: -5\n', 'server.max_event_size'],
    ['output:\n  elasticsearch:\n    hosts: ["not a url"]\n', 'output.elasticsearch.hosts'],
  ])('refuses a bad value (%j), naming %s', (yaml, key) => {
    const err = configError(() => loadConfig({ file: tmpFile('c.yml', yaml), env: {} }));
    expect(err.message).toContain(key);
  });

  it('masks secrets in the printable config', () => {
    const { printable } = loadConfig({
      env: { APM_SIDECAR_SECRET_TOKEN: 'topsecret', APM_SIDECAR_ES_API_KEY: 'id:key' },
    });
    expect(printable).not.toContain('topsecret');
    expect(printable).not.toContain('id:key');
    expect(printable).toContain('127.0.0.1:8200');
  });
});
