import { formatAgentSettings, serverUrlFor } from '../../../cli/start/agent-settings';

describe('apm-sidecar start: agent settings', () => {
  it('prints the Node agent options and the same as ELASTIC_APM_* variables, quoting for the shell', () => {
    const text = formatAgentSettings({
      serverUrl: 'https://127.0.0.1:8200',
      secretToken: "a'b",
      serverCaCertFile: '/data/tls/ca.crt',
    });
    expect(text).toContain('  serverUrl         https://127.0.0.1:8200');
    expect(text).toContain('  serverCaCertFile  /data/tls/ca.crt');
    expect(text).toContain("export ELASTIC_APM_SECRET_TOKEN='a'\\''b'");
    expect(text).toContain('export ELASTIC_APM_SERVER_CA_CERT_FILE=/data/tls/ca.crt');
  });

  it('turns a wildcard listen address into one agents on this machine can reach', () => {
    expect(serverUrlFor(true, '0.0.0.0', 8200)).toBe('https://127.0.0.1:8200');
    expect(serverUrlFor(false, '::1', 8200)).toBe('http://[::1]:8200');
  });
});
