import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../../config/load';
import { resolveTlsSettings } from '../../../config/tls-settings';
import { loadSecureContextOptions } from '../../../proxy/tls';
import { testPki } from '../../support/certs';
import { configError } from '../../support/config-error';

function sslFrom(env: NodeJS.ProcessEnv, file?: string): ReturnType<typeof loadConfig>['config']['server']['ssl'] {
  return loadConfig({ env, file }).config.server.ssl;
}

describe('server.ssl validation', () => {
  const pki = testPki();
  const certEnv = { APM_SIDECAR_SSL_CERTIFICATE: pki.serverCertFile, APM_SIDECAR_SSL_KEY: pki.serverKeyFile };

  it('is off without a certificate and on when one is set (ssl.enabled unset)', () => {
    expect(resolveTlsSettings(sslFrom({}), 1000).enabled).toBe(false);
    const settings = resolveTlsSettings(sslFrom(certEnv), 1000);
    expect(settings).toMatchObject({
      enabled: true,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      client_authentication: 'none',
    });
  });

  it('refuses TLS 1.0 and 1.1 at startup, naming the key', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-tls-'));
    const file = path.join(dir, 'c.yml');
    fs.writeFileSync(file, 'server:\n  ssl:\n    supported_protocols: [TLSv1.1, TLSv1.2]\n');
    const err = configError(() => resolveTlsSettings(sslFrom(certEnv, file), 1000));
    expect(err.code).toBe('SIDECAR_ERR_CONFIG_INVALID');
    expect(err.message).toContain('server.ssl.supported_protocols');
    expect(err.message).toContain('TLSv1.1');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('offers only TLS 1.3 when asked', () => {
    const ssl = { ...sslFrom(certEnv), supported_protocols: ['TLSv1.3'] };
    expect(resolveTlsSettings(ssl, 1000)).toMatchObject({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
  });

  it('refuses ssl.enabled without a certificate and key', () => {
    expect(configError(() => resolveTlsSettings(sslFrom({ APM_SIDECAR_SSL_ENABLED: 'true' }), 1000)).message).toContain(
      'server.ssl.certificate',
    );
    expect(
      configError(() => resolveTlsSettings(sslFrom({ APM_SIDECAR_SSL_CERTIFICATE: pki.serverCertFile }), 1000)).message,
    ).toContain('server.ssl.key');
  });

  it('refuses client authentication without certificate authorities', () => {
    const err = configError(() =>
      resolveTlsSettings(sslFrom({ ...certEnv, APM_SIDECAR_SSL_CLIENT_AUTHENTICATION: 'required' }), 1000),
    );
    expect(err.message).toContain('certificate_authorities');
  });

  it('reports an unreadable certificate file or a key that does not match before listening', () => {
    const missing = resolveTlsSettings(
      sslFrom({ ...certEnv, APM_SIDECAR_SSL_CERTIFICATE: '/nonexistent/server.crt' }),
      1000,
    );
    if (!missing.enabled) throw new Error('expected TLS on');
    expect(configError(() => loadSecureContextOptions(missing)).message).toContain('/nonexistent/server.crt');
    const mismatched = resolveTlsSettings(sslFrom({ ...certEnv, APM_SIDECAR_SSL_KEY: pki.clientKeyFile }), 1000);
    if (!mismatched.enabled) throw new Error('expected TLS on');
    expect(configError(() => loadSecureContextOptions(mismatched)).code).toBe('SIDECAR_ERR_CONFIG_INVALID');
  });
});
