import https from 'node:https';

import { testPki } from './certs';
import { eventually, httpRequest, type HttpResult, testToken } from './proxy-harness';

export const intakeMetadataLine =
  '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}\n';

/** An intake request held open: its metadata line is sent, the rest follows when the test calls `finish`, or never. */
export interface HalfSentRequest {
  readonly response: Promise<HttpResult>;
  readonly finish: () => void;
}

/** A POST to /intake/v2/events over TLS (the test CA) whose body is sent in part; `rest` ends it on `finish()`. */
export function halfSentRequest(port: number, rest: string): HalfSentRequest {
  const req = https.request({
    host: '127.0.0.1',
    port,
    path: '/intake/v2/events',
    method: 'POST',
    ca: testPki().ca.cert,
    agent: false,
    headers: {
      Authorization: `Bearer ${testToken}`,
      Accept: 'application/json',
      'Content-Type': 'application/x-ndjson',
    },
  });
  const response = new Promise<HttpResult>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: raw.toString('utf8'), raw });
      });
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  req.write(intakeMetadataLine);
  return { response, finish: () => req.end(rest) };
}

/** The sum of a metric's samples in Prometheus text, over the samples whose labels pass `labelFilter`. */
export function sampleSum(text: string, name: string, labelFilter: (labels: string) => boolean = () => true): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m?.[1] === name && labelFilter(m[2] ?? '')) sum += Number(m[3]);
  }
  return sum;
}

/**
 * Resolves once the proxy behind `adminUrl` (every worker of server.workers summed) serves `count` requests
 * (headers read, not answered): a test that signals a shutdown "while requests are in flight" waits for this, not
 * for a fixed time, which a loaded machine outlasts.
 */
export async function requestsInFlight(adminUrl: string, count: number): Promise<void> {
  await eventually(
    async () => {
      const res = await httpRequest(`${adminUrl}/metrics`);
      return sampleSum(res.body, 'apm_sidecar_requests_in_flight') === count ? true : undefined;
    },
    60_000,
    `${count} requests in flight at ${adminUrl}`,
  );
}
