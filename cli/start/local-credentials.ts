import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createCertificateAuthority, issueCertificate } from '../../tls/local-ca';

export interface LocalTls {
  readonly caFile: string;
  readonly certificateFile: string;
  readonly keyFile: string;
  readonly created: boolean;
}

function writeFile(file: string, content: string, mode: number): void {
  fs.writeFileSync(file, content, { mode });
  // writeFileSync applies the mode only when it creates the file.
  fs.chmodSync(file, mode);
}

const writeSecret = (file: string, content: string): void => writeFile(file, content, 0o600);
/** Certificates are public: agents (other users, other hosts) are given ca.crt to trust the proxy. */
const publicMode = 0o644;

/**
 * A local CA and a server certificate for this machine (localhost, 127.0.0.1, ::1 and the host name), made on
 * the first run and reused afterwards, so agents configured once keep trusting the proxy.
 */
export function ensureLocalTls(dataDir: string): LocalTls {
  const dir = path.join(dataDir, 'tls');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    caFile: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    certificateFile: path.join(dir, 'server.crt'),
    keyFile: path.join(dir, 'server.key'),
  };
  const complete = Object.values(files).every((f) => fs.existsSync(f));
  if (!complete) {
    const ca = createCertificateAuthority('apm-sidecar local CA');
    const hostname = os.hostname();
    const server = issueCertificate(ca, {
      commonName: 'localhost',
      dnsNames: ['localhost', ...(hostname !== '' && hostname !== 'localhost' ? [hostname] : [])],
      ipAddresses: ['127.0.0.1', '::1'],
    });
    writeSecret(files.caKey, ca.key);
    writeFile(files.caFile, ca.cert, publicMode);
    writeSecret(files.keyFile, server.key);
    writeFile(files.certificateFile, server.cert, publicMode);
  } else {
    // Earlier versions wrote the certificates 0600.
    for (const file of [files.caFile, files.certificateFile]) fs.chmodSync(file, publicMode);
  }
  return { caFile: files.caFile, certificateFile: files.certificateFile, keyFile: files.keyFile, created: !complete };
}

/** A random secret token (256 bits, URL-safe), made on the first run and kept in path.data. */
export function ensureSecretToken(dataDir: string): {
  readonly token: string;
  readonly file: string;
  readonly created: boolean;
} {
  const file = path.join(dataDir, 'secret-token');
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token !== '') return { token, file, created: false };
  }
  const token = randomBytes(32).toString('base64url');
  writeSecret(file, `${token}\n`);
  return { token, file, created: true };
}
