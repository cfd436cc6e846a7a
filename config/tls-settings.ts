import tls from 'node:tls';

import { invalidConfig } from './invalid-config';
import type { ServerSslConfig } from './schema/server-ssl';

type ProtocolVersion = 'TLSv1.2' | 'TLSv1.3';
const supportedVersions: readonly ProtocolVersion[] = ['TLSv1.2', 'TLSv1.3'];

/** server.ssl as the listener takes it: certificate and key set, protocol range and cipher list resolved. */
export type TlsSettings =
  | { readonly enabled: false }
  | (Readonly<ServerSslConfig> & {
      readonly enabled: true;
      readonly certificate: string;
      readonly key: string;
      readonly minVersion: ProtocolVersion;
      readonly maxVersion: ProtocolVersion;
      /** OpenSSL cipher list: the TLS 1.3 AEAD suites, then server.ssl.cipher_suites for TLS 1.2. */
      readonly ciphers: string;
      /** server.ssl.handshake_timeout in ms: a connection without a completed handshake by then is closed. */
      readonly handshakeTimeoutMs: number;
    });

/** TLS 1.3 has only AEAD suites with forward secrecy; they are always offered. */
const tls13Suites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

function protocolRange(protocols: readonly string[]): { minVersion: ProtocolVersion; maxVersion: ProtocolVersion } {
  const refused = protocols.filter((p) => !supportedVersions.some((v) => v === p));
  if (refused.length > 0 || protocols.length === 0) {
    throw invalidConfig(
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
    throw invalidConfig(
      `server.ssl.cipher_suites: ${unknown.length > 0 ? unknown.join(', ') : 'an empty list'} ${unknown.length === 1 ? 'is not a' : 'are not'} TLS 1.2 cipher suite name${unknown.length === 1 ? '' : 's'} OpenSSL knows`,
      'list OpenSSL names such as ECDHE-RSA-AES128-GCM-SHA256 (see `openssl ciphers -v`), or remove the key for the default',
    );
  }
  return [...tls13Suites, ...suites].join(':');
}

/** Whether the intake listens with TLS: server.ssl.enabled, or when unset, whether a certificate is set. */
export function tlsEnabled(ssl: Pick<ServerSslConfig, 'enabled' | 'certificate'>): boolean {
  return ssl.enabled ?? ssl.certificate !== null;
}

/** Validates server.ssl.* into what the listener needs. */
export function resolveTlsSettings(ssl: ServerSslConfig, handshakeTimeoutMs: number): TlsSettings {
  if (!tlsEnabled(ssl)) return { enabled: false };
  if (ssl.certificate === null || ssl.key === null) {
    throw invalidConfig(
      'server.ssl is enabled but server.ssl.certificate or server.ssl.key is not set',
      'set both to PEM files, or set server.ssl.enabled: false',
    );
  }
  if (ssl.client_authentication !== 'none' && ssl.certificate_authorities.length === 0) {
    throw invalidConfig(
      `server.ssl.client_authentication is ${ssl.client_authentication} but server.ssl.certificate_authorities is empty`,
      'list the PEM files of the CAs that sign client certificates',
    );
  }
  return {
    ...ssl,
    enabled: true,
    certificate: ssl.certificate,
    key: ssl.key,
    ...protocolRange(ssl.supported_protocols),
    ciphers: cipherList(ssl.cipher_suites),
    handshakeTimeoutMs,
  };
}
