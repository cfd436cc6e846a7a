import type { ItemResult } from '../outcomes';

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
): PreparedDocument {
  // dynamic_templates: how APM Server maps histogram metric samples without a static mapping.
  const action = dynamicTemplates === undefined ? { _index: dataStream, _id: id } : { _index: dataStream, _id: id, dynamic_templates: dynamicTemplates };
  const lines = `${JSON.stringify({ create: action })}\n${JSON.stringify(source)}\n`;
  return { id, dataStream, lines, bytes: Buffer.byteLength(lines) };
}

/**
 * A failure of the whole request. `retry`: the cluster is unreachable, overloaded or failing (connection
 * errors, timeouts, 429, 5xx). `auth`: 401/403, the credential is wrong or lacks a privilege: retrying at full
 * speed would only spin, so the forwarder pauses. `rejected`: any other answer that will not change by itself.
 */
export interface RequestFailure {
  readonly kind: 'retry' | 'auth' | 'rejected';
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
