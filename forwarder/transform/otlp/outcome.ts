import { StatusCode } from '../../../queue/otlp/model';

/** event.outcome from the span status: ok -> success, error -> failure, unset -> unknown (decided later). */
export function statusOutcome(code: number): string {
  if (code === StatusCode.ok) return 'success';
  if (code === StatusCode.error) return 'failure';
  return 'unknown';
}

export function statusResult(code: number): string {
  if (code === StatusCode.ok) return 'Success';
  if (code === StatusCode.error) return 'Error';
  return '';
}

export function httpStatusResult(status: number): string {
  const family = Math.floor(status / 100);
  return family >= 1 && family <= 5 ? `HTTP ${family}xx` : `HTTP ${status}`;
}

const grpcCodes = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** Go's codes.Code.String(): the name, or "Code(n)" for an unknown value. */
export function grpcCodeName(code: number): string {
  return grpcCodes[code] ?? `Code(${code})`;
}
