import fs from 'node:fs';
import https from 'node:https';

import { Client } from '@elastic/elasticsearch';

import { loadConfig } from '../../../config/load';
import { type EsConnection, runtimeConfig } from '../../../config/runtime';
import { describeForOperator, type SidecarError } from '../../../core/errors';
import { createEsClient, type EsOutput } from '../../../elasticsearch/client';
import { classifyEsError } from '../../../elasticsearch/errors';
import {
  certificateFingerprint,
  createCertificateAuthority,
  issueCertificate,
  type PemPair,
} from '../../../tls/local-ca';
import { testPki } from '../../support/certs';

/** A tiny HTTPS server that answers GET / as Elasticsearch does, presenting `chain` (leaf first). */
interface FakeCluster {
  readonly url: string;
  /** TLS handshakes completed: the pin's probe and the real connections. */
  handshakes(): number;
  close(): Promise<void>;
}

async function startFakeCluster(chain: readonly string[], key: string): Promise<FakeCluster> {
  let handshakes = 0;
  const server = https.createServer({ cert: chain.join(''), key }, (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
    res.end(
      JSON.stringify({
        name: 'fake',
        cluster_name: 'fake',
        cluster_uuid: 'x',
        version: { number: '8.19.0' },
        tagline: 'You Know, for Search',
      }),
    );
  });
  server.on('secureConnection', () => {
    handshakes += 1;
  });
  // A refused handshake is expected here; without a listener it would be an unhandled 'tlsClientError'.
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fake cluster listens on no TCP port');
  const { port } = address;
  return {
    url: `https://127.0.0.1:${port}`,
    handshakes: () => handshakes,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function outputFor(url: string, ssl: Partial<EsOutput['ssl']>): EsConnection {
  const overrides = { output: { elasticsearch: { hosts: [url], username: 'elastic', password: 'changeme', ssl } } };
  return runtimeConfig(loadConfig({ env: {}, overrides }).config).elasticsearch;
}

/** 'connected', or the SidecarError the product makes of the failure. */
async function attempt(client: Client): Promise<'connected' | SidecarError> {
  try {
    await client.info();
    return 'connected';
  } catch (err) {
    return classifyEsError(err, { credential: 'output.elasticsearch' });
  } finally {
    await client.close();
  }
}

/** The operator's view of a refusal; fails the test when the connection was accepted. */
function explained(result: 'connected' | SidecarError): string {
  if (result === 'connected') throw new Error('expected a refusal, the connection was accepted');
  return describeForOperator(result);
}

function pinned(
  url: string,
  fingerprint: string,
  mode: EsOutput['ssl']['verification_mode'] = 'full',
): Promise<'connected' | SidecarError> {
  return attempt(createEsClient(outputFor(url, { ca_trusted_fingerprint: fingerprint, verification_mode: mode })));
}

describe('ssl.ca_trusted_fingerprint pins the CA: the chain and the host name are verified against it', () => {
  const pki = testPki();
  const caFingerprint = certificateFingerprint(pki.ca.cert);
  const serverCert = fs.readFileSync(pki.serverCertFile, 'utf8');
  const serverKey = fs.readFileSync(pki.serverKeyFile, 'utf8');
  const impostor = createCertificateAuthority('apm-sidecar test CA');
  const clusters: FakeCluster[] = [];

  async function cluster(chain: readonly string[], key: string): Promise<FakeCluster> {
    const started = await startFakeCluster(chain, key);
    clusters.push(started);
    return started;
  }

  /**
   * The attack: a leaf that names the real CA as issuer (same subject, same authority key id) but is signed
   * by another key, sent with the real, public CA certificate. Only a signature check tells it apart.
   */
  function forgedLeaf(): PemPair {
    return issueCertificate(
      { cert: pki.ca.cert, key: impostor.key },
      { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] },
    );
  }

  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.close()));
  });

  it('connects when the cluster sends its chain and the pin is its CA (colons and case as openssl prints it)', async () => {
    const genuine = await cluster([serverCert, pki.ca.cert], serverKey);
    await expect(pinned(genuine.url, caFingerprint)).resolves.toBe('connected');
    const opensslStyle = caFingerprint.toUpperCase().match(/../g)?.join(':') ?? '';
    await expect(pinned(genuine.url, opensslStyle)).resolves.toBe('connected');
  });

  it("refuses a forged leaf sent with the real CA certificate, which the transport's caFingerprint alone accepts", async () => {
    const forged = forgedLeaf();
    const attacker = await cluster([forged.cert, pki.ca.cert], forged.key);
    // Proof the forgery is a real attack: the top of the presented chain has the pinned fingerprint. (Should
    // this start failing after a transport upgrade, the transport verifies chains now and it can go.)
    const transportOnly = new Client({
      node: attacker.url,
      caFingerprint: caFingerprint,
      tls: { rejectUnauthorized: false },
      maxRetries: 0,
    });
    await expect(attempt(transportOnly)).resolves.toBe('connected');

    for (const mode of ['full', 'certificate'] as const) {
      const refused = await pinned(attacker.url, caFingerprint, mode);
      expect(refused).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
      expect(explained(refused)).toMatch(
        /signature failure.*does not verify against the CA pinned by ssl.ca_trusted_fingerprint/,
      );
    }
  });

  it('refuses a leaf signed by a certificate of the pinned CA that is not itself a CA', async () => {
    const intermediateLeaf = issueCertificate(pki.ca, { commonName: 'some node', dnsNames: ['node.example'] });
    const signedByLeaf = issueCertificate(intermediateLeaf, { commonName: 'localhost', ipAddresses: ['127.0.0.1'] });
    const attacker = await cluster([signedByLeaf.cert, intermediateLeaf.cert, pki.ca.cert], signedByLeaf.key);
    // Node links a chain only through CA certificates, so the probe finds no pinned CA here...
    await expect(pinned(attacker.url, caFingerprint, 'certificate')).resolves.toMatchObject({
      code: 'SIDECAR_ERR_ES_TLS',
    });
    // ...and when the pinned CA is known without a probe (it is in a CA file), OpenSSL refuses the path.
    const known = createEsClient(
      outputFor(attacker.url, {
        certificate_authorities: [pki.caFile],
        ca_trusted_fingerprint: caFingerprint,
        verification_mode: 'certificate',
      }),
    );
    expect(explained(await attempt(known))).toMatch(
      /key usage does not include certificate signing.*does not verify against the CA pinned/,
    );
  });

  it('refuses a wrong pin and a cluster that sends no CA certificate, naming the fingerprint', async () => {
    const genuine = await cluster([serverCert, pki.ca.cert], serverKey);
    const wrong = await pinned(genuine.url, certificateFingerprint(impostor.cert));
    expect(wrong).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
    expect(explained(wrong)).toContain('ca_trusted_fingerprint');

    const leafOnly = await cluster([serverCert], serverKey);
    const noCa = await pinned(leafOnly.url, caFingerprint);
    expect(noCa).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
    expect(explained(noCa)).toContain('must send its chain including the CA');
    expect(explained(noCa)).toContain('configure the cluster to send its full chain');
  });

  it('checks the host name under full, not under certificate', async () => {
    const elsewhere = issueCertificate(pki.ca, { commonName: 'es.example', dnsNames: ['es.example'] });
    const misnamed = await cluster([elsewhere.cert, pki.ca.cert], elsewhere.key);
    const full = await pinned(misnamed.url, caFingerprint, 'full');
    expect(full).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
    expect(explained(full)).toContain('does not name the host');
    await expect(pinned(misnamed.url, caFingerprint, 'certificate')).resolves.toBe('connected');
  });

  it('refuses an expired leaf of the pinned CA', async () => {
    const expired = issueCertificate(pki.ca, { commonName: 'localhost', ipAddresses: ['127.0.0.1'], days: -1 });
    const stale = await cluster([expired.cert, pki.ca.cert], expired.key);
    const refused = await pinned(stale.url, caFingerprint);
    expect(refused).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
    expect(explained(refused)).toContain('expired');
  });

  it('trusts the CA files as well as the pin, and probes only when the pinned CA is not among them', async () => {
    const genuine = await cluster([serverCert, pki.ca.cert], serverKey);
    const wrongCaFile = `${pki.dir}/impostor-ca.crt`;
    fs.writeFileSync(wrongCaFile, impostor.cert);
    const either = createEsClient(
      outputFor(genuine.url, { certificate_authorities: [wrongCaFile], ca_trusted_fingerprint: caFingerprint }),
    );
    await expect(attempt(either)).resolves.toBe('connected');

    const before = genuine.handshakes();
    const caFileHasPin = createEsClient(
      outputFor(genuine.url, { certificate_authorities: [pki.caFile], ca_trusted_fingerprint: caFingerprint }),
    );
    await expect(attempt(caFileHasPin)).resolves.toBe('connected');
    expect(genuine.handshakes() - before).toBe(1);
  });

  it('probes once per client, however many connections it opens', async () => {
    const genuine = await cluster([serverCert, pki.ca.cert], serverKey);
    const client = createEsClient(outputFor(genuine.url, { ca_trusted_fingerprint: caFingerprint }));
    try {
      await Promise.all(Array.from({ length: 8 }, () => client.info()));
      const afterBurst = genuine.handshakes();
      await client.info();
      // One probe plus one handshake per pooled connection; a later request reuses a connection.
      expect(afterBurst).toBeGreaterThanOrEqual(2);
      expect(afterBurst).toBeLessThanOrEqual(9);
      expect(genuine.handshakes()).toBe(afterBurst);
    } finally {
      await client.close();
    }
  });

  it('verification_mode none checks nothing, the pin included', async () => {
    const forged = forgedLeaf();
    const attacker = await cluster([forged.cert, pki.ca.cert], forged.key);
    await expect(pinned(attacker.url, certificateFingerprint(impostor.cert), 'none')).resolves.toBe('connected');
  });
});
