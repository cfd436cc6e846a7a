import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { type IntakeJobData, jobSchemaVersion } from '../../../queue/contract';
import { decodeOtlpRequest } from '../../../queue/otlp/decode';
import { countItems, type OtlpSignal } from '../../../queue/otlp/model';

/** The job the proxy would enqueue for one OTLP/JSON request of the golden fixtures (test/unit/forwarder/otlp). */
export function otlpJob(
  signal: OtlpSignal,
  requestId: string = randomUUID(),
  edit?: (request: Record<string, unknown>) => void,
): IntakeJobData {
  const file = fs.readFileSync(
    path.join(__dirname, '..', '..', 'unit', 'forwarder', 'otlp', 'fixtures', `${signal}.json`),
  );
  let raw = file;
  if (edit !== undefined) {
    const request = JSON.parse(file.toString('utf8')) as Record<string, unknown>;
    edit(request);
    raw = Buffer.from(JSON.stringify(request));
  }
  return {
    v: jobSchemaVersion,
    requestId,
    receivedAt: Date.now(),
    identity: { kind: 'secret_token', id: 'token-test' },
    client: { ip: '127.0.0.1', userAgent: 'OTel-OTLP-Exporter-JavaScript/0.223.1' },
    encoding: 'gzip',
    body: zlib.gzipSync(raw).toString('base64'),
    events: countItems(decodeOtlpRequest(signal, 'json', raw)).items,
    rawBytes: raw.length,
    otlp: { signal, format: 'json' },
  };
}
