import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createCertificateAuthority, issueCertificate, type PemPair } from '../../tls/local-ca';

export interface TestPki {
  readonly dir: string;
  readonly ca: PemPair;
  /** Files on disk, for config keys that take paths. */
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  /** A second CA and a client certificate it signed: "the wrong client certificate". */
  readonly otherClientCertFile: string;
  readonly otherClientKeyFile: string;
}

let cached: TestPki | undefined;

/** A test CA with a server certificate for localhost/127.0.0.1/::1 and client certificates. Made once per jest worker. */
export function testPki(): TestPki {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-pki-'));
  const ca = createCertificateAuthority('apm-sidecar test CA');
  const server = issueCertificate(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const client = issueCertificate(ca, { commonName: 'test-agent', usage: 'client' });
  const otherCa = createCertificateAuthority('some other CA');
  const other = issueCertificate(otherCa, { commonName: 'intruder', usage: 'client' });
  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content, { mode: 0o600 });
    return file;
  };
  cached = {
    dir,
    ca,
    caFile: write('ca.crt', ca.cert),
    serverCertFile: write('server.crt', server.cert),
    serverKeyFile: write('server.key', server.key),
    clientCertFile: write('client.crt', client.cert),
    clientKeyFile: write('client.key', client.key),
    otherClientCertFile: write('other-client.crt', other.cert),
    otherClientKeyFile: write('other-client.key', other.key),
  };
  return cached;
}
