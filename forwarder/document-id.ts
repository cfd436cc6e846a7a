/**
 * The `_id` of an event's document: the request id the proxy gave the job plus the event's line index. It is the
 * same on every redelivery of the job and on a dead-letter replay, so `create` turns a second write into a 409
 * instead of a second document.
 */
export function documentId(requestId: string, lineIndex: number): string {
  return `${requestId}.${lineIndex}`;
}
