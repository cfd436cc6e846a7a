import { constants as cryptoConstants } from 'node:crypto';
import fs from 'node:fs';
import type https from 'node:https';
import tls from 'node:tls';

import type { Logger } from 'pino';

import { settingName } from '../config/leaves';
import type { SidecarConfig } from '../config/schema';
import { parseDuration } from '../core/duration';
import { SidecarError } from '../core/errors';

type ProtocolVersion = 'TLSv1.2' | 'TLSv1.3';
const supportedVersions: readonly ProtocolVersion[] = ['TLSv1.2', 'TLSv1.3'];

export type TlsSettings =
  | { readonly enabled: false }
  | {
      readonly enabled: true;
      readonly certificate: string;
      readonly key: string;
      readonly keyPassphrase: string | null;
      readonly certificateAuthorities: readonly string[];
      readonly clientAuthentication: 'none' | 'optional' | 'required';
      readonly minVersion: ProtocolVersion;
      readonly maxVersion: ProtocolVersion;
      /** OpenSSL cipher list: the TLS 1.3 AEAD suites, then server.ssl.cipher_suites for TLS 1.2. */
      readonly ciphers: string;
      /** server.ssl.handshake_timeout in ms: a connection without a completed handshake by then is closed. */
      readonly handshakeTimeoutMs: number;
    };

/** TLS 1.3 has only AEAD suites with forward secrecy; they are always offered. */
const tls13Suites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

function invalid(message: string, remediation: string): SidecarError {
  return new SidecarError('SIDECAR_ERR_CONFIG_INVALID', message, { remediation });
}

function protocolRange(protocols: readonly string[]): { minVersion: ProtocolVersion; maxVersion: ProtocolVersion } {
  const refused = protocols.filter((p) => !supportedVersions.some((v) => v === p));
  if (refused.length > 0 || protocols.length === 0) {
    throw invalid(
      `server.ssl.supported_protocols: ${refused.length > 0 ? refused.join(', ') : 'an empty list'} cannot be offered; TLS 1.0 and 1.1 are broken and refused`,
      'list TLSv1.2 and/or TLSv1.3 only',
    );
  }
  const chosen = supportedVersions.filter((v) => protocols.includes(v));
  return { minVersion: chosen[0] ?? 'TLSv1.2', maxVersion: chosen[chosen.length - 1] ?? 'TLSv1.3' };
}

/** server.ssl.cipher_suites as one OpenSSL list; a name OpenSSL does not know (or a cipher-string keyword) is refused. */
function cipherList(suites: readonly string[]): string {
  const known = new Set(tls.getCiphers());
  const unknown = suites.filter((s) => !known.has(s.toLowerCase()) || tls13Suites.includes(s));
  if (unknown.length > 0 || suites.length === 0) {
    throw invalid(
      `server.ssl.cipher_suites: ${unknown.length > 0 ? unknown.join(', ') : 'an empty list'} ${unknown.length === 1 ? 'is not a' : 'are not'} TLS 1.2 cipher suite name${unknown.length === 1 ? '' : 's'} OpenSSL knows`,
      'list OpenSSL names such as ECDHE-RSA-AES128-GCM-SHA256 (see `openssl ciphers -v`), or remove the key for the default',
    );
  }
  return [...tls13Suites, ...suites].join(':');
}

/** Validates server.ssl.* into what the listener needs. ssl.enabled unset means "on when a certificate is set". */
export function resolveTlsSettings(ssl: SidecarConfig['server']['ssl']): TlsSettings {
  const handshakeTimeoutMs = parseDuration(ssl.handshake_timeout);
  const enabled = ssl.enabled ?? ssl.certificate !== null;
  if (!enabled) return { enabled: false };
  if (ssl.certificate === null || ssl.key === null) {
    throw invalid(
      'server.ssl is enabled but server.ssl.certificate or server.ssl.key is not set',
      'set both to PEM files, or set server.ssl.enabled: false',
    );
  }
  if (ssl.client_authentication !== 'none' && ssl.certificate_authorities.length === 0) {
    throw invalid(
      `server.ssl.client_authentication is ${ssl.client_authentication} but server.ssl.certificate_authorities is empty`,
      'list the PEM files of the CAs that sign client certificates',
    );
  }
  return {
    enabled: true,
    certificate: ssl.certificate,
    key: ssl.key,
    keyPassphrase: ssl.key_passphrase,
    certificateAuthorities: ssl.certificate_authorities,
    clientAuthentication: ssl.client_authentication,
    ...protocolRange(ssl.supported_protocols),
    ciphers: cipherList(ssl.cipher_suites),
    handshakeTimeoutMs,
  };
}

type EnabledTls = Extract<TlsSettings, { enabled: true }>;

function readPem(file: string, key: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw invalid(
      `${key}: cannot read ${file} (${reason})`,
      `make ${file} readable by this process, or point ${settingName(key)} at a PEM file`,
    );
  }
}

/** Reads the files and builds a context, so a bad certificate, key or passphrase is reported before listening. */
export function loadSecureContextOptions(settings: EnabledTls): tls.SecureContextOptions {
  const options: tls.SecureContextOptions = {
    cert: readPem(settings.certificate, 'server.ssl.certificate'),
    key: readPem(settings.key, 'server.ssl.key'),
    ...(settings.keyPassphrase === null ? {} : { passphrase: settings.keyPassphrase }),
    ...(settings.certificateAuthorities.length === 0
      ? {}
      : { ca: settings.certificateAuthorities.map((f) => readPem(f, 'server.ssl.certificate_authorities')) }),
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
      throw invalid(
        `server.ssl.key (${settings.key}) is not the key of server.ssl.certificate (${settings.certificate})`,
        'point server.ssl.key (APM_SIDECAR_SSL_KEY) at the key the certificate was issued for',
      );
    }
    throw invalid(
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
    requestCert: settings.clientAuthentication !== 'none',
    rejectUnauthorized: settings.clientAuthentication === 'required',
    // server.ts closes a connection whose handshake is not done by handshakeTimeoutMs (an absolute bound; Node's
    // own handshakeTimeout restarts with every byte, so a trickled hello would outlive it). This one is a backstop.
    handshakeTimeout: settings.handshakeTimeoutMs,
  };
}

/**
 * Reloads the certificate and key when their files change (polled, so an atomic rename by cert-manager or
 * certbot is seen too) and on SIGHUP. setSecureContext applies to new connections; open ones keep theirs.
 * A broken new pair is logged and the old one kept.
 */
export class CertificateReloader {
  private readonly files: string[];
  private closed = false;
  private readonly onSignal = (): void => this.reload('SIGHUP');
  private readonly onChange = (): void => this.reload('file change');

  constructor(
    private readonly settings: EnabledTls,
    private readonly server: tls.Server,
    private readonly logger: Logger,
    private readonly pollIntervalMs = 1000,
  ) {
    this.files = [settings.certificate, settings.key, ...settings.certificateAuthorities];
  }

  start(): void {
    if (this.pollIntervalMs > 0) {
      for (const file of this.files)
        fs.watchFile(file, { interval: this.pollIntervalMs, persistent: false }, this.onChange);
    }
    process.on('SIGHUP', this.onSignal);
  }

  reload(reason: string): void {
    if (this.closed) return;
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

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const file of this.files) fs.unwatchFile(file, this.onChange);
    process.off('SIGHUP', this.onSignal);
  }
}
