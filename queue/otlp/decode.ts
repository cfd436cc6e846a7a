import protobuf from 'protobufjs';

import { otlpDescriptor } from './descriptor';
import type { OtlpFormat, OtlpRequest, OtlpSignal } from './model';
import { OtlpDecodeError } from './plain';
import { readLogs, readMetrics, readTraces } from './signals';

export { OtlpDecodeError } from './plain';

/**
 * decodeOtlpRequest: an OTLP export request body (decompressed) into the typed model. The proxy runs it before
 * queueing (a body that does not decode is a 400 and never queued); the forwarder runs it again on the job.
 */

export const otlpRoot = protobuf.Root.fromJSON(otlpDescriptor);

const requestTypeNames: Readonly<Record<OtlpSignal, string>> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
};

const requestTypes: Readonly<Record<OtlpSignal, protobuf.Type>> = {
  traces: otlpRoot.lookupType(requestTypeNames.traces),
  metrics: otlpRoot.lookupType(requestTypeNames.metrics),
  logs: otlpRoot.lookupType(requestTypeNames.logs),
};

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function plainFromProtobuf(signal: OtlpSignal, body: Uint8Array): unknown {
  const type = requestTypes[signal];
  try {
    const plain: unknown = type.toObject(type.decode(body), { longs: String, enums: Number });
    return plain;
  } catch (err) {
    throw new OtlpDecodeError(`cannot decode the protobuf ${type.name}: ${describe(err)}`);
  }
}

function plainFromJson(body: Uint8Array): unknown {
  try {
    const plain: unknown = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
    return plain;
  } catch (err) {
    throw new OtlpDecodeError(`cannot decode the JSON body: ${describe(err)}`);
  }
}

export function decodeOtlpRequest(signal: OtlpSignal, format: OtlpFormat, body: Uint8Array): OtlpRequest {
  const plain = format === 'protobuf' ? plainFromProtobuf(signal, body) : plainFromJson(body);
  switch (signal) {
    case 'traces':
      return { signal, resources: readTraces(plain) };
    case 'metrics':
      return { signal, resources: readMetrics(plain) };
    case 'logs':
      return { signal, resources: readLogs(plain) };
  }
}
