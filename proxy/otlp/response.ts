import protobuf from 'protobufjs';

import { otlpRoot } from '../../queue/otlp/decode';
import type { OtlpFormat, OtlpSignal } from '../../queue/otlp/model';
import type { ErrorBody, Rendered } from '../answer';
import { grpcCodeOf } from './grpc-status';

/**
 * OTLP/HTTP answers as the OTLP specification and APM Server write them: 200 with an Export*ServiceResponse
 * (partial success only for unsupported metric data points), every failure a google.rpc.Status, protobuf or,
 * for an OTLP/JSON request, its JSON form. The HTTP status is the result table's; the Status code the gRPC code
 * that an OTLP client and a gRPC client would read for it.
 */

const protobufType = 'application/x-protobuf';
const jsonType = 'application/json';

/** The format a request asked for: JSON only when its Content-Type says so (OTLP's default is protobuf). */
export function otlpFormatOf(contentType: string | undefined): OtlpFormat | undefined {
  if (contentType === undefined || contentType === '') return 'protobuf';
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (type === protobufType) return 'protobuf';
  if (type === jsonType) return 'json';
  return undefined;
}

/** google.rpc.Status { int32 code = 1; string message = 2; } (no details). */
function encodeStatus(code: number, message: string): Buffer {
  const bytes = protobuf.Writer.create().uint32(0o10).int32(code).uint32(0o22).string(message).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function rendered(format: OtlpFormat, body: Buffer | string): Rendered {
  return { headers: { 'Content-Type': format === 'json' ? jsonType : protobufType }, body };
}

/** The OTLP routes' failure body: google.rpc.Status in the request's format. */
export const otlpErrorBody: ErrorBody = (failure, headers) => {
  const format = otlpFormatOf(headers['content-type']) ?? 'protobuf';
  const code = grpcCodeOf[failure.result];
  const body =
    format === 'json' ? JSON.stringify({ code, message: failure.message }) : encodeStatus(code, failure.message);
  return rendered(format, body);
};

const responseTypes: Readonly<Record<OtlpSignal, protobuf.Type>> = {
  traces: otlpRoot.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  metrics: otlpRoot.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
  logs: otlpRoot.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
};

/** APM Server's wording for exponential histograms and other metrics it does not index. */
const unsupportedDataPointsMessage = 'unsupported data points';

/** The Export*ServiceResponse; its JSON form writes the int64 rejectedDataPoints as a string, as proto3 JSON does. */
export function renderOtlpSuccess(signal: OtlpSignal, format: OtlpFormat, rejectedDataPoints: number): Rendered {
  const type = responseTypes[signal];
  const partial = signal === 'metrics' && rejectedDataPoints > 0;
  const message = type.fromObject(
    partial ? { partialSuccess: { rejectedDataPoints, errorMessage: unsupportedDataPointsMessage } } : {},
  );
  if (format === 'json') return rendered(format, JSON.stringify(type.toObject(message, { longs: String })));
  const bytes = type.encode(message).finish();
  return rendered(format, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
