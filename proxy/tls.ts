import fs from 'node:fs';
import type https from 'node:https';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { SidecarConfig } from '../config/schema';
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
    };

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

/** Validates server.ssl.* into what the listener needs. ssl.enabled unset means "on when a certificate is set". */
export function resolveTlsSettings(ssl: SidecarConfig['server']['ssl']): TlsSettings {
  const enabled = ssl.enabled ?? ssl.certificate !== null;
  if (!enabled) return { enabled: false };
  if (ssl.certificate === null || ssl.key === null) {
    throw invalid('server.ssl is enabled but server.ssl.certificate or server.ssl.key is not set', 'set both to PEM files, or set server.ssl.enabled: false');
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
  };
}

type EnabledTls = Extract<TlsSettings, { enabled: true }>;

function readPem(file: string, key: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw invalid(`${key}: cannot read ${file} (${reason})`, 'point the key at a readable PEM file');
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
  };
  try {
    tls.createSecureContext(options);
  } catch (err) {
    throw invalid(`server.ssl: the certificate, key or passphrase is unusable (${err instanceof Error ? err.message : String(err)})`, 'check that the key matches the certificate and the passphrase is right');
  }
  return options;
}

/** Options of the agents' HTTPS listener. "optional" asks for a certificate and verifies it when one is sent (see server.ts). */
export function httpsServerOptions(settings: EnabledTls): https.ServerOptions {
  return {
    ...loadSecureContextOptions(settings),
    requestCert: settings.clientAuthentication !== 'none',
    rejectUnauthorized: settings.clientAuthentication === 'required',
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
      for (const file of this.files) fs.watchFile(file, { interval: this.pollIntervalMs, persistent: false }, this.onChange);
    }
    process.on('SIGHUP', this.onSignal);
  }

  reload(reason: string): void {
    if (this.closed) return;
    try {
      this.server.setSecureContext(loadSecureContextOptions(this.settings));
      this.logger.info({ reason, certificate: this.settings.certificate }, 'TLS certificate reloaded; new connections use it');
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
