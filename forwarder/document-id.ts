/**
 * The `_id` of an event's document: the request id the proxy gave the job plus the event's line index. It is the
 * same on every redelivery of the job and on a dead-letter replay, so `create` turns a second write into a 409
 * instead of a second document.
 */
export function documentId(requestId: string, lineIndex: number): string {
  return `${requestId}.${lineIndex}`;
}

/** An OTLP document's `_id`: the request id plus its position in the request ("s3", "s3.e0", "m7", "l2"). */
export function otlpDocumentId(requestId: string, position: string): string {
  return `${requestId}.${position}`;
}
