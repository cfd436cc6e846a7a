import { Client, type ClientOptions, type UndiciAgentOptions } from '@elastic/elasticsearch';
import type { Logger } from 'pino';

import { readPem } from '../config/invalid-config';
import type { EsConnection } from '../config/runtime';
import type { SidecarConfig } from '../config/schema';
import { type Connector, createPinnedCaConnector, skipHostNameCheck } from './pinned-ca';

export type EsOutput = SidecarConfig['output']['elasticsearch'];

/** A credential as the config gives it: basic auth, or an API key as "id:key" or already base64. */
export interface EsCredential {
  readonly username: string | null;
  readonly password: string | null;
  readonly api_key: string | null;
}

function present(value: string | null): value is string {
  return value !== null && value !== '';
}

/** "id:key" -> base64(id:key); an already encoded key is passed through. */
function encodeApiKey(apiKey: string): string {
  return apiKey.includes(':') ? Buffer.from(apiKey).toString('base64') : apiKey;
}

/** Basic auth, or an API key given as "id:key" or already base64-encoded. */
function authFor(credential: EsCredential): ClientOptions['auth'] {
  if (present(credential.api_key)) return { apiKey: encodeApiKey(credential.api_key) };
  if (present(credential.username)) return { username: credential.username, password: credential.password ?? '' };
  return undefined;
}

/** An undici agent option the transport passes through to its Pool: our connector replaces the default one. */
interface PinnedAgentOptions extends UndiciAgentOptions {
  readonly connect: Connector;
}

/**
 * TLS options from output.elasticsearch.ssl: trust (CA files and/or fingerprint pin), client certificate.
 * A fingerprint means "trust this CA" (as in Elasticsearch's own clients): the chain is verified against it by
 * OpenSSL, and the host name under verification_mode full; see pinned-ca.ts. CA files given as well are
 * trusted too.
 */
export function tlsOptionsFor(output: EsConnection): Pick<ClientOptions, 'tls' | 'agent'> {
  const ssl = output.ssl;
  const ca = ssl.certificate_authorities.map((file) =>
    readPem(file, 'output.elasticsearch.ssl.certificate_authorities'),
  );
  const clientCert = present(ssl.certificate)
    ? readPem(ssl.certificate, 'output.elasticsearch.ssl.certificate')
    : undefined;
  const clientKey = present(ssl.key) ? readPem(ssl.key, 'output.elasticsearch.ssl.key') : undefined;
  if (output.caFingerprint !== null && ssl.verification_mode !== 'none') {
    // No `tls` here: the transport would replace our connector with one built from it. Should a transport
    // upgrade ignore `agent.connect`, the default connector verifies against the system CAs: it fails closed.
    const agent: PinnedAgentOptions = {
      connect: createPinnedCaConnector({
        fingerprint: output.caFingerprint,
        certificateAuthorities: ca,
        clientCertificate: clientCert,
        clientKey,
        checkHostName: ssl.verification_mode === 'full',
        connectTimeoutMs: output.timeoutMs,
      }),
    };
    return { agent };
  }
  return {
    tls: {
      ...(ca.length > 0 ? { ca } : {}),
      ...(clientCert !== undefined ? { cert: clientCert } : {}),
      ...(clientKey !== undefined ? { key: clientKey } : {}),
      rejectUnauthorized: ssl.verification_mode !== 'none',
      ...(ssl.verification_mode === 'certificate' ? { checkServerIdentity: skipHostNameCheck } : {}),
    },
  };
}

/**
 * Says loudly, at every start, when the connection to the cluster is not protected: verification off, or a
 * plain-http host (credentials in clear text).
 */
export function warnAboutInsecureTransport(output: EsOutput, logger: Logger): void {
  if (output.ssl.verification_mode === 'none') {
    logger.warn(
      { key: 'output.elasticsearch.ssl.verification_mode' },
      'TLS VERIFICATION IS OFF for Elasticsearch: anyone on the network path can impersonate the cluster and read the writer credential. Set ssl.certificate_authorities or ssl.ca_trusted_fingerprint and verification_mode: full',
    );
  }
  const plain = output.hosts.filter((host) => host.startsWith('http://'));
  if (plain.length > 0) {
    logger.warn(
      { hosts: plain },
      'Elasticsearch hosts use plain http: the credential and all APM data cross the network unencrypted. Use https',
    );
  }
}

export interface EsClientOptions {
  /** Overrides the credential (setup uses the admin one; the API-key verifier uses none). */
  readonly credential?: EsCredential | null;
  /** When given, insecure transport settings are logged as a warning. */
  readonly logger?: Logger;
}

/**
 * The Elasticsearch client every process uses. Hosts are used round-robin. The caller owns retries
 * (maxRetries 0: the transport's own retries would multiply with ours), and every request has a timeout
 * (a v9 client has none by default).
 */
export function createEsClient(
  output: EsConnection,
  overrides: Partial<ClientOptions> = {},
  options: EsClientOptions = {},
): Client {
  if (options.logger !== undefined) warnAboutInsecureTransport(output, options.logger);
  const credential = options.credential === undefined ? output : options.credential;
  const clientOptions: ClientOptions = {
    nodes: output.hosts,
    auth: credential === null ? undefined : authFor(credential),
    maxRetries: 0,
    requestTimeout: output.timeoutMs,
    compression: false,
    ...tlsOptionsFor(output),
    ...overrides,
  };
  return new Client(clientOptions);
}
