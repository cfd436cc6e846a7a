import fs from 'node:fs';
import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { parseDuration } from '../core/duration';
import type { SidecarConfig } from '../config/schema';

type EsOutput = SidecarConfig['output']['elasticsearch'];

/** Basic auth, or an API key given as "id:key" or already base64-encoded. */
function authFor(output: EsOutput): ClientOptions['auth'] {
  if (output.api_key !== null && output.api_key !== '') {
    const key = output.api_key.includes(':') ? Buffer.from(output.api_key).toString('base64') : output.api_key;
    return { apiKey: key };
  }
  if (output.username !== null && output.username !== '') {
    return { username: output.username, password: output.password ?? '' };
  }
  return undefined;
}

/**
 * The Elasticsearch client every process uses. The caller owns retries (maxRetries 0: the transport's own
 * retries would multiply with ours), and every request has a timeout (a v9 client has none by default).
 */
export function createEsClient(output: EsOutput, overrides: Partial<ClientOptions> = {}): Client {
  const ca = output.ssl.certificate_authorities.map((file) => fs.readFileSync(file, 'utf8'));
  const fingerprint = output.ssl.ca_trusted_fingerprint;
  const options: ClientOptions = {
    nodes: output.hosts,
    auth: authFor(output),
    maxRetries: 0,
    requestTimeout: parseDuration(output.timeout),
    compression: false,
    tls: {
      ...(ca.length > 0 ? { ca } : {}),
      rejectUnauthorized: output.ssl.verification_mode !== 'none',
      ...(output.ssl.verification_mode === 'certificate' ? { checkServerIdentity: () => undefined } : {}),
    },
    ...(fingerprint !== null && fingerprint !== '' ? { caFingerprint: fingerprint } : {}),
    ...overrides,
  };
  return new Client(options);
}
