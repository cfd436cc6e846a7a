import type { Schema } from 'convict';

/** server.ssl: TLS of the intake listener. */
export interface ServerSslConfig {
  enabled: boolean | null;
  certificate: string | null;
  key: string | null;
  key_passphrase: string | null;
  certificate_authorities: string[];
  client_authentication: 'none' | 'optional' | 'required';
  supported_protocols: string[];
  cipher_suites: string[];
  handshake_timeout: string;
  reload_interval: string;
}

export const serverSslSchema: Schema<ServerSslConfig> = {
  enabled: {
    doc: 'Serve HTTPS. Unset (null) means: on when a certificate is configured.',
    format: 'optional-boolean',
    default: null,
    env: 'APM_SIDECAR_SSL_ENABLED',
  },
  certificate: {
    doc: 'Path to the PEM server certificate (chain). Reloaded when the file changes and on SIGHUP.',
    format: 'optional-string',
    default: null,
    env: 'APM_SIDECAR_SSL_CERTIFICATE',
  },
  key: {
    doc: 'Path to the PEM private key of the certificate.',
    format: 'optional-string',
    default: null,
    env: 'APM_SIDECAR_SSL_KEY',
  },
  key_passphrase: {
    doc: 'Passphrase of an encrypted private key.',
    format: 'optional-string',
    default: null,
    env: 'APM_SIDECAR_SSL_KEY_PASSPHRASE',
    sensitive: true,
  },
  certificate_authorities: {
    doc: 'PEM files of CAs that sign client certificates (used with client_authentication).',
    format: 'string-list',
    default: [],
    env: 'APM_SIDECAR_SSL_CERTIFICATE_AUTHORITIES',
  },
  client_authentication: {
    doc: 'Client certificates: none, optional (verified when sent), required.',
    format: ['none', 'optional', 'required'],
    default: 'none',
    env: 'APM_SIDECAR_SSL_CLIENT_AUTHENTICATION',
  },
  supported_protocols: {
    doc: 'TLS versions offered: TLSv1.2 and/or TLSv1.3. Older versions are refused at startup.',
    format: 'string-list',
    default: ['TLSv1.2', 'TLSv1.3'],
  },
  cipher_suites: {
    doc: 'TLS 1.2 cipher suites offered, OpenSSL names, most preferred first. The default is ECDHE key exchange with AEAD ciphers only (forward secrecy, as Go and so APM Server offer by default). TLS 1.3 suites are always the three AEAD ones. Unknown names are refused at startup.',
    format: 'string-list',
    default: [
      'ECDHE-ECDSA-AES128-GCM-SHA256',
      'ECDHE-RSA-AES128-GCM-SHA256',
      'ECDHE-ECDSA-AES256-GCM-SHA384',
      'ECDHE-RSA-AES256-GCM-SHA384',
      'ECDHE-ECDSA-CHACHA20-POLY1305',
      'ECDHE-RSA-CHACHA20-POLY1305',
    ],
  },
  handshake_timeout: {
    doc: 'A connection that has not completed its TLS handshake this long after it was accepted is closed (a client that connects and sends nothing, or trickles its hello).',
    format: 'duration',
    default: '5s',
  },
  reload_interval: {
    doc: 'How often the certificate, key and CA files (and server.auth.secret_tokens_file) are checked for changes (a changed pair is served to new connections). 0s: only on SIGHUP. Each check is a stat of each file, in every proxy process.',
    format: 'duration',
    default: '10s',
  },
};
