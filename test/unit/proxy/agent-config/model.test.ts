import { parseAgentConfigFile } from '../../../../proxy/agent-config/file-source';
import {
  type AgentConfigEntry,
  AgentConfigParseError,
  etagOfSettings,
  matchAgentConfig,
  noConfig,
  parseAgentConfigEntry,
} from '../../../../proxy/agent-config/model';
import { parseQueryBody } from '../../../../proxy/agent-config/request';
import { parseUpstreamAnswer } from '../../../../proxy/agent-config/upstream-source';

function thrown(fn: () => unknown): { code?: unknown; message?: unknown } {
  try {
    fn();
  } catch (err) {
    return typeof err === 'object' && err !== null
      ? { ...err, message: err instanceof Error ? err.message : undefined }
      : {};
  }
  throw new Error('expected a throw');
}

function entry(serviceName: string, serviceEnvironment: string, rate: string): AgentConfigEntry {
  const settings = { transaction_sample_rate: rate };
  return { serviceName, serviceEnvironment, settings, etag: etagOfSettings(settings) };
}

describe('matchAgentConfig (APM Server order)', () => {
  const all = [
    entry('', '', '0.1'),
    entry('', 'prod', '0.2'),
    entry('checkout', '', '0.3'),
    entry('checkout', 'prod', '0.4'),
  ];
  const rate = (name: string, env: string): string | undefined =>
    matchAgentConfig({ serviceName: name, serviceEnvironment: env }, all).settings.transaction_sample_rate;

  it('prefers name + environment, then name, then environment, then the catch-all', () => {
    expect(rate('checkout', 'prod')).toBe('0.4');
    expect(rate('checkout', 'staging')).toBe('0.3');
    expect(rate('cart', 'prod')).toBe('0.2');
    expect(rate('cart', 'staging')).toBe('0.1');
  });

  it('answers "no configuration" with etag "-" when nothing matches', () => {
    expect(matchAgentConfig({ serviceName: 'x', serviceEnvironment: '' }, [entry('y', '', '1')])).toEqual(noConfig);
    expect(noConfig.etag).toBe('-');
  });

  it('is independent of entry order for the exact match', () => {
    expect(
      matchAgentConfig({ serviceName: 'checkout', serviceEnvironment: 'prod' }, [...all].reverse()).settings
        .transaction_sample_rate,
    ).toBe('0.4');
  });
});

describe('etags and parsing', () => {
  it('derives the same etag for the same settings in any key order, another for other settings', () => {
    expect(etagOfSettings({ a: '1', b: '2' })).toBe(etagOfSettings({ b: '2', a: '1' }));
    expect(etagOfSettings({ a: '1' })).not.toBe(etagOfSettings({ a: '2' }));
  });

  it("turns scalar settings into text as APM Server does, keeps Kibana's etag", () => {
    const parsed = parseAgentConfigEntry(
      {
        service: { name: 's' },
        settings: { transaction_sample_rate: 0.5, recording: true },
        etag: 'abc',
        agent_name: 'nodejs',
      },
      'doc',
    );
    expect(parsed).toEqual({
      serviceName: 's',
      serviceEnvironment: '',
      settings: { transaction_sample_rate: '0.5', recording: 'true' },
      etag: 'abc',
    });
  });

  it('refuses nested setting values and non-object settings with the place named', () => {
    expect(() => parseAgentConfigEntry({ settings: { a: { b: 1 } } }, 'f[0]')).toThrow(
      new AgentConfigParseError('f[0]: settings.a must be string,number,boolean'),
    );
    expect(() => parseAgentConfigEntry({ service: { name: 's' } }, 'f[1]')).toThrow(
      new AgentConfigParseError("f[1]: data must have required property 'settings'"),
    );
  });

  it('reads a YAML list and a JSON list; an empty file is no configuration', () => {
    const yaml =
      '- service: {name: a, environment: prod}\n  settings: {transaction_sample_rate: 0.2}\n- settings: {log_level: debug}\n';
    expect(parseAgentConfigFile(yaml, 'f.yml').map((e) => [e.serviceName, e.serviceEnvironment, e.settings])).toEqual([
      ['a', 'prod', { transaction_sample_rate: '0.2' }],
      ['', '', { log_level: 'debug' }],
    ]);
    expect(
      parseAgentConfigFile('[{"service":{"name":"b"},"settings":{"capture_body":"all"}}]', 'f.json')[0]?.serviceName,
    ).toBe('b');
    expect(parseAgentConfigFile('', 'empty.yml')).toEqual([]);
  });

  it('names the file and the fix for a file that is not a list', () => {
    const failure = thrown(() => parseAgentConfigFile('a: 1', 'f.yml'));
    expect(failure.code).toBe('SIDECAR_ERR_CONFIG_INVALID');
    expect(failure.message).toContain('f.yml');
    expect(() => parseAgentConfigFile('[', 'f.yml')).toThrow(/not valid YAML or JSON/);
  });
});

describe('POST bodies and upstream answers', () => {
  it('reads {"service":{"name","environment"},"etag"} and ignores extra fields', () => {
    expect(parseQueryBody('{"service":{"name":"a","environment":"prod"},"etag":"x","other":1}', true)).toEqual({
      serviceName: 'a',
      serviceEnvironment: 'prod',
    });
    expect(parseQueryBody('{}', true)).toEqual({ serviceName: '', serviceEnvironment: '' });
  });

  it('gives anonymous callers only "invalid query", authenticated ones the detail', () => {
    expect(() => parseQueryBody('nope', false)).toThrow(/^invalid query$/);
    expect(() => parseQueryBody('nope', true)).toThrow(/invalid JSON body/);
    expect(() => parseQueryBody('{"service":{"name":3}}', true)).toThrow(/must be strings/);
  });

  it('takes settings and the unquoted etag from the upstream; 403 means central config is off there', () => {
    expect(parseUpstreamAnswer({ status: 200, etag: '"e1"', body: '{"transaction_sample_rate":"0.3"}' })).toEqual({
      settings: { transaction_sample_rate: '0.3' },
      etag: 'e1',
    });
    expect(thrown(() => parseUpstreamAnswer({ status: 403, etag: undefined, body: '{}' })).code).toBe(
      'SIDECAR_ERR_AGENT_CONFIG_DISABLED',
    );
    expect(thrown(() => parseUpstreamAnswer({ status: 500, etag: undefined, body: '' })).code).toBe(
      'SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE',
    );
  });
});
