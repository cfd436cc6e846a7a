import { constants as cryptoConstants } from 'node:crypto';
import type https from 'node:https';
import tls from 'node:tls';

import type { Logger } from 'pino';

import { invalidConfig, readPem } from '../config/invalid-config';
import type { TlsSettings } from '../config/tls-settings';
import { FileReloader } from './file-reloader';

type EnabledTls = Extract<TlsSettings, { enabled: true }>;

/** Reads the files and builds a context, so a bad certificate, key or passphrase is reported before listening. */
export function loadSecureContextOptions(settings: EnabledTls): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    cert: readPem(settings.certificate, 'server.ssl.certificate'),
    key: readPem(settings.key, 'server.ssl.key'),
    ...(settings.key_passphrase === null ? {} : { passphrase: settings.key_passphrase }),
    ...(settings.certificate_authorities.length === 0
      ? {}
      : { ca: settings.certificate_authorities.map((f) => readPem(f, 'server.ssl.certificate_authorities')) }),
    minVersion: settings.minVersion,
    maxVersion: settings.maxVersion,
    ciphers: settings.ciphers,
    honorCipherOrder: true,
    // Client-initiated renegotiation (TLS 1.2) is refused: it costs the server a handshake for each request.
    secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION,
  };
  try {
    tls.createSecureContext(options);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (/key values mismatch/.test(reason)) {
      throw invalidConfig(
        `server.ssl.key (${settings.key}) is not the key of server.ssl.certificate (${settings.certificate})`,
        'point server.ssl.key (APM_SIDECAR_SSL_KEY) at the key the certificate was issued for',
      );
    }
    throw invalidConfig(
      `server.ssl: the certificate, key or passphrase is unusable (${reason})`,
      'check that the key matches the certificate and the passphrase is right',
    );
  }
  return options;
}

/** Options of the agents' HTTPS listener. "optional" asks for a certificate and verifies it when one is sent (see server.ts). */
export function httpsServerOptions(settings: EnabledTls): https.ServerOptions {
  return {
    ...loadSecureContextOptions(settings),
    requestCert: settings.client_authentication !== 'none',
    rejectUnauthorized: settings.client_authentication === 'required',
    // server.ts closes a connection whose handshake is not done by handshakeTimeoutMs (an absolute bound; Node's
    // own handshakeTimeout restarts with every byte, so a trickled hello would outlive it). This one is a backstop.
    handshakeTimeout: settings.handshakeTimeoutMs,
  };
}

/**
 * Reloads the certificate and key when their files change (see FileReloader). setSecureContext applies to new
 * connections; open ones keep theirs. A broken new pair is logged and the old one kept.
 */
export class CertificateReloader extends FileReloader {
  constructor(
    private readonly settings: EnabledTls,
    private readonly server: tls.Server,
    private readonly logger: Logger,
    pollIntervalMs = 1000,
  ) {
    super([settings.certificate, settings.key, ...settings.certificate_authorities], pollIntervalMs);
  }

  protected apply(reason: string): void {
    try {
      this.server.setSecureContext(loadSecureContextOptions(this.settings));
      this.logger.info(
        { reason, certificate: this.settings.certificate },
        'TLS certificate reloaded; new connections use it',
      );
    } catch (err) {
      this.logger.warn({ reason, err }, 'TLS certificate reload failed; still serving the previous certificate');
    }
  }
}
