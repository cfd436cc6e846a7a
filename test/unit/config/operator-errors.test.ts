import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../../config/load';
import { configError } from '../../support/config-error';

function tmpFile(name: string, content: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-config-')), name);
  fs.writeFileSync(file, content);
  return file;
}

const namedKeyRemedy = /fix the key named above/;

describe('config errors an operator reads', () => {
  it('a bad value from a variable names the key and the variable', () => {
    const err = configError(() => loadConfig({ env: { APM_SIDECAR_SERVER_READ_TIMEOUT: 'soon' } }));
    expect(err.message).toMatch(
      /^server\.read_timeout \(set by APM_SIDECAR_SERVER_READ_TIMEOUT\): "soon" is not a duration/,
    );
    const fromFile = configError(() =>
      loadConfig({ env: {}, file: tmpFile('c.yml', 'server:\n  read_timeout: soon\n') }),
    );
    expect(fromFile.message).toMatch(/^server\.read_timeout: "soon" is not a duration/);
  });

  it('an unknown variable or key gets the closest known one', () => {
    const variable = configError(() => loadConfig({ env: { APM_SIDECAR_HOTS: '0.0.0.0:8200' } }));
    expect(variable.message).toBe('unknown environment variable APM_SIDECAR_HOTS (did you mean APM_SIDECAR_HOST?)');
    expect(variable.remediation).not.toMatch(namedKeyRemedy);
    const key = configError(() => loadConfig({ env: {}, file: tmpFile('c.yml', 'queue:\n  durabilty: fsync\n') }));
    expect(key.message).toMatch(/unknown key "queue\.durabilty" in .*c\.yml \(did you mean queue\.durability\?\)/);
    const far = configError(() => loadConfig({ env: { APM_SIDECAR_SOMETHING_ELSE_ENTIRELY: 'x' } }));
    expect(far.message).toBe('unknown environment variable APM_SIDECAR_SOMETHING_ELSE_ENTIRELY');
  });

  it('says "fix the key named above" only when a key is named', () => {
    expect(configError(() => loadConfig({ env: {}, file: '/nonexistent/apm-sidecar.yml' })).remediation).toBe(
      'check the path given by --config or APM_SIDECAR_CONFIG',
    );
    expect(configError(() => loadConfig({ env: {}, file: tmpFile('c.toml', 'x = 1') })).remediation).not.toMatch(
      namedKeyRemedy,
    );
    const both = configError(() =>
      loadConfig({ env: { APM_SIDECAR_ES_PASSWORD: 'a', APM_SIDECAR_ES_PASSWORD_FILE: tmpFile('p', 'b') } }),
    );
    expect(both.remediation).toBe('unset APM_SIDECAR_ES_PASSWORD or APM_SIDECAR_ES_PASSWORD_FILE');
    expect(configError(() => loadConfig({ env: { APM_SIDECAR_SERVER_READ_TIMEOUT: 'x' } })).remediation).toMatch(
      namedKeyRemedy,
    );
  });

  it('a YAML error keeps its line, column and caret on separate lines, a secret value masked', () => {
    const file = tmpFile(
      'c.yml',
      'output:\n  elasticsearch:\n    password: hunter2-secret\n    hosts: [https://es:9200\nlog: {}\n',
    );
    const err = configError(() => loadConfig({ env: {}, file }));
    expect(err.message).toMatch(/does not parse: .*at line \d+, column \d+:\n/);
    expect(err.message).toMatch(/\n\s*\^/);
    expect(err.message).not.toContain('hunter2-secret');
    expect(err.remediation).toBe(`fix the syntax of ${file} at the line shown`);
  });

  it('--print-config shows whether each secret is set, never its value', () => {
    const { printable } = loadConfig({
      env: { APM_SIDECAR_SECRET_TOKEN: 'abcdefghijklmnopqrstu', APM_SIDECAR_ES_API_KEY: 'id:key-secret-value' },
    });
    const shown = JSON.parse(printable) as {
      server: { auth: { secret_tokens: unknown } };
      output: { elasticsearch: { api_key: unknown; password: unknown } };
      upstream: { secret_token: unknown };
    };
    expect(shown.server.auth.secret_tokens).toBe('[set]');
    expect(shown.output.elasticsearch.api_key).toBe('[set]');
    expect(shown.output.elasticsearch.password).toBe('[not set]');
    expect(shown.upstream.secret_token).toBe('[not set]');
    expect(printable).not.toContain('abcdefghijklmnopqrstu');
    expect(printable).not.toContain('key-secret-value');
    expect(printable).not.toContain('[Sensitive]');
  });
});
