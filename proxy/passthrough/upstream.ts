import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';

import type { SidecarConfig } from '../../config/schema';
import { SidecarError } from '../../core/errors';

/** How to reach the upstream (APM Server or Kibana) and as whom: shared by pass-through and agent config. */
export interface UpstreamSettings {
  readonly url: URL;
  /** Keep-alive agent carrying the upstream's CA; TLS is always verified. */
  readonly agent: http.Agent;
  /** The upstream's own credential, sent in place of the agent's; null sends none. */
  readonly authorization: string | null;
  readonly timeoutMs: number;
  readonly forwardFor: boolean;
}

/** "id:key" is encoded as APM Server expects it; anything else is taken as already base64(id:key). */
function apiKeyHeader(apiKey: string): string {
  return `ApiKey ${apiKey.includes(':') ? Buffer.from(apiKey).toString('base64') : apiKey}`;
}

function upstreamAuthorization(upstream: SidecarConfig['upstream']): string | null {
  if (upstream.api_key !== null && upstream.api_key !== '') return apiKeyHeader(upstream.api_key);
  if (upstream.secret_token !== null && upstream.secret_token !== '') return `Bearer ${upstream.secret_token}`;
  return null;
}

function readCertificateAuthorities(files: readonly string[]): string[] {
  return files.map((file) => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new SidecarError(
        'SIDECAR_ERR_CONFIG_INVALID',
        `cannot read upstream.ssl.certificate_authorities file ${file}`,
        {
          cause: err,
          remediation:
            "set upstream.ssl.certificate_authorities to readable PEM files of the CA that signed the upstream's certificate",
        },
      );
    }
  });
}

/** upstream.*, its timeout already in ms (upstream.timeout); null when upstream.url is not set. */
export function upstreamSettingsFrom(upstream: SidecarConfig['upstream'], timeoutMs: number): UpstreamSettings | null {
  if (upstream.url === null || upstream.url === '') return null;
  const url = new URL(upstream.url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SidecarError('SIDECAR_ERR_CONFIG_INVALID', `upstream.url must be http(s), got ${url.protocol}`, {
      remediation: 'set upstream.url to https://host:8200',
    });
  }
  const ca = readCertificateAuthorities(upstream.ssl.certificate_authorities);
  const agent =
    url.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: true, ...(ca.length > 0 ? { ca } : {}) })
      : new http.Agent({ keepAlive: true });
  return {
    url,
    agent,
    authorization: upstreamAuthorization(upstream),
    timeoutMs,
    forwardFor: upstream.x_forwarded_for,
  };
}
