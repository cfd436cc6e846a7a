import { loadConfig } from '../../../config/load';
import { type EsConnection, runtimeConfig } from '../../../config/runtime';
import { SidecarError } from '../../../core/errors';
import {
  createEsClient,
  type EsOutput,
  tlsOptionsFor,
  warnAboutInsecureTransport,
} from '../../../elasticsearch/client';
import { findPinned, isChainFailure, skipHostNameCheck } from '../../../elasticsearch/pinned-ca';
import { certificateFingerprint, createCertificateAuthority } from '../../../tls/local-ca';
import { LogSink } from '../../support/log-sink';

const pin = 'ab'.repeat(32);

function outputWith(ssl: Partial<EsOutput['ssl']>, hosts = ['https://127.0.0.1:9200']): EsConnection {
  return runtimeConfig(loadConfig({ env: {}, overrides: { output: { elasticsearch: { hosts, ssl } } } }).config)
    .elasticsearch;
}

describe('ssl.ca_trusted_fingerprint, parsed once with the config', () => {
  it('takes hex as Elasticsearch prints it and as openssl prints it (colons, upper case)', () => {
    const colons = pin.toUpperCase().match(/../g)?.join(':') ?? '';
    expect(outputWith({ ca_trusted_fingerprint: colons }).caFingerprint).toBe(pin);
    expect(outputWith({ ca_trusted_fingerprint: ` ${pin} ` }).caFingerprint).toBe(pin);
    expect(outputWith({}).caFingerprint).toBeNull();
  });

  it('refuses anything that is not 64 hex digits, as a config error naming the key', () => {
    for (const bad of ['ab'.repeat(20), 'zz'.repeat(32), 'sha256:' + pin]) {
      let thrown: unknown;
      try {
        outputWith({ ca_trusted_fingerprint: bad });
      } catch (err) {
        thrown = err;
      }
      expect(thrown instanceof SidecarError && thrown.code).toBe('SIDECAR_ERR_CONFIG_INVALID');
      expect(String(thrown)).toContain('ca_trusted_fingerprint');
    }
  });
});

describe('tlsOptionsFor', () => {
  it("a pin installs our connector and none of the transport's own pinning (which skips chain verification)", () => {
    for (const mode of ['full', 'certificate'] as const) {
      const options = tlsOptionsFor(outputWith({ ca_trusted_fingerprint: pin, verification_mode: mode }));
      expect(options).not.toHaveProperty('caFingerprint');
      // `tls` would make the transport build its own connector in place of ours.
      expect(options.tls).toBeUndefined();
      expect(
        typeof options.agent === 'object' &&
          options.agent !== null &&
          'connect' in options.agent &&
          typeof options.agent.connect,
      ).toBe('function');
    }
  });

  it('verification_mode none verifies nothing, pin or not', () => {
    const options = tlsOptionsFor(outputWith({ ca_trusted_fingerprint: pin, verification_mode: 'none' }));
    expect(options.agent).toBeUndefined();
    expect(options.tls?.rejectUnauthorized).toBe(false);
  });

  it('without a pin, Node verifies: the chain always, the host name unless verification_mode is certificate', () => {
    const full = tlsOptionsFor(outputWith({}));
    expect(full.tls?.rejectUnauthorized).toBe(true);
    expect(full.tls?.checkServerIdentity).toBeUndefined();
    const certificate = tlsOptionsFor(outputWith({ verification_mode: 'certificate' }));
    expect(certificate.tls?.rejectUnauthorized).toBe(true);
    expect(certificate.tls?.checkServerIdentity).toBe(skipHostNameCheck);
  });

  it('a pin with plain-http hosts makes a client (nothing to pin there; the start-up warning says so)', async () => {
    const client = createEsClient(outputWith({ ca_trusted_fingerprint: pin }, ['http://127.0.0.1:9200']));
    await client.close();
  });
});

describe('pinned CA helpers', () => {
  it('finds the pinned certificate among PEMs by its SHA-256 fingerprint', () => {
    const ca = createCertificateAuthority('pinned');
    const other = createCertificateAuthority('other');
    expect(findPinned([other.cert, ca.cert], certificateFingerprint(ca.cert))).toBe(ca.cert);
    expect(findPinned([other.cert], certificateFingerprint(ca.cert))).toBeUndefined();
  });

  it('tells OpenSSL chain failures from network errors, host name and date failures', () => {
    for (const code of [
      'CERT_SIGNATURE_FAILURE',
      'INVALID_CA',
      'KEYUSAGE_NO_CERTSIGN',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'SELF_SIGNED_CERT_IN_CHAIN',
    ]) {
      expect(isChainFailure(code)).toBe(true);
    }
    for (const code of [
      'ECONNRESET',
      'ETIMEDOUT',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'ERR_SSL_WRONG_VERSION_NUMBER',
      'CERT_HAS_EXPIRED',
      'CERT_NOT_YET_VALID',
    ]) {
      expect(isChainFailure(code)).toBe(false);
    }
  });
});

describe('warnAboutInsecureTransport', () => {
  it('warns when verification is off and when a host is plain http; says nothing for a pinned https cluster', () => {
    const sink = new LogSink();
    const logger = sink.logger();
    warnAboutInsecureTransport(outputWith({ ca_trusted_fingerprint: pin }), logger);
    expect(sink.lines).toHaveLength(0);
    warnAboutInsecureTransport(outputWith({ verification_mode: 'none' }, ['http://127.0.0.1:9200']), logger);
    const messages = sink.lines.map((l) => String(l.msg));
    expect(messages.some((m) => m.includes('TLS VERIFICATION IS OFF'))).toBe(true);
    expect(messages.some((m) => m.includes('plain http'))).toBe(true);
  });
});
