import crypto from 'node:crypto';

import forge from 'node-forge';

/** A PEM certificate with its private key. */
export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface CertificateRequest {
  readonly commonName: string;
  /** DNS names and IP addresses the certificate is valid for. */
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly days?: number;
  /** Client certificates get clientAuth, server certificates serverAuth. */
  readonly usage?: 'server' | 'client';
}

/** A new RSA 2048 key pair and a certificate for its public key, valid from a minute ago for `days`. */
function newCertificate(days: number): { keys: forge.pki.rsa.KeyPair; cert: forge.pki.Certificate } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // Positive, non-zero, 16 bytes: what RFC 5280 asks of a serial.
  cert.serialNumber = `01${crypto.randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  return { keys, cert };
}

/** Creates a self-signed certificate authority (RSA 2048, SHA-256). */
export function createCertificateAuthority(commonName: string, days = 3650): PemPair {
  const { keys, cert } = newCertificate(days);
  const attrs = [{ name: 'commonName', value: commonName }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Issues a leaf certificate signed by `ca`. */
export function issueCertificate(ca: PemPair, request: CertificateRequest): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const { keys, cert } = newCertificate(request.days ?? 825);
  cert.setSubject([{ name: 'commonName', value: request.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(request.ipAddresses ?? []).map((ip) => ({ type: 7, ip })),
  ];
  const usage = request.usage ?? 'server';
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** SHA-256 fingerprint of a PEM certificate, hex without colons (as Elasticsearch prints it). */
export function certificateFingerprint(pem: string): string {
  return new crypto.X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}
