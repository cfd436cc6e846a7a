import type { ItemResult } from '../outcomes';
import { restoreRawIntegers } from '../transform/big-integers';

/** One document ready for a bulk request: its create action and source, serialized once. */
export interface PreparedDocument {
  readonly id: string;
  readonly dataStream: string;
  /** `{"create":{...}}\n{source}\n`, exactly as it goes into the bulk body. */
  readonly lines: string;
  readonly bytes: number;
}

export function prepareDocument(
  id: string,
  dataStream: string,
  source: Record<string, unknown>,
  dynamicTemplates?: Readonly<Record<string, string>>,
  rawIntegers = false,
): PreparedDocument {
  // dynamic_templates: how APM Server maps histogram metric samples without a static mapping.
  // The action as JSON.stringify({ create: action }) writes it, without building the objects.
  const templates = dynamicTemplates === undefined ? '' : `,"dynamic_templates":${JSON.stringify(dynamicTemplates)}`;
  const action = `{"create":{"_index":${JSON.stringify(dataStream)},"_id":${JSON.stringify(id)}${templates}}}`;
  const json = JSON.stringify(source);
  const lines = `${action}\n${rawIntegers ? restoreRawIntegers(json) : json}\n`;
  return { id, dataStream, lines, bytes: Buffer.byteLength(lines) };
}

/** The `_source` JSON of a prepared document (a slice of its bulk lines, not a second serialization). */
export function preparedSource(document: PreparedDocument): string {
  return document.lines.slice(document.lines.indexOf('\n') + 1, -1);
}

/**
 * A failure of the whole request, by what it costs:
 * - `retry`: this request failed (a timeout, a reset, a 5xx, an answer that did not come from Elasticsearch such
 *   as a load balancer's HTML 502 or 404): its documents are sent again, nothing else waits.
 * - `overloaded`: the cluster as a whole refuses (429 on the request, 503, connection refused): its documents
 *   are sent again and every bulk holds off for a backoff.
 * - `auth`: 401/403, the credential is wrong or lacks a privilege: retrying at full speed would only spin, so
 *   the forwarder pauses.
 * - `too_large`: 413, the body is over a size limit (the cluster's http.max_content_length, a reverse proxy's):
 *   the bulk is split in halves; a single document over it is dead-lettered.
 * - `rejected`: any other answer of Elasticsearch that will not change by itself: split as well, so only the
 *   document that causes it is dead-lettered.
 */
export interface RequestFailure {
  readonly kind: 'retry' | 'overloaded' | 'auth' | 'too_large' | 'rejected';
  readonly status: number | null;
  readonly errorType: string;
  readonly reason: string;
}

export type BulkWriteResult =
  | { readonly ok: true; readonly items: readonly ItemResult[] }
  | { readonly ok: false; readonly failure: RequestFailure };

/** Where bulks go: Elasticsearch, or ndjson files when no hosts are configured. write() never throws. */
export interface BulkSink {
  write(documents: readonly PreparedDocument[]): Promise<BulkWriteResult>;
  close(): Promise<void>;
}
