import type { ItemResult } from '../outcomes';
import type { ApmDocument } from '../transform';
import { restoreRawIntegers } from '../transform/big-integers';
import type { Fragments } from '../transform/fragments';

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
  { dataStream, source, dynamicTemplates, rawIntegers = false, fragments }: ApmDocument,
): PreparedDocument {
  // dynamic_templates: how APM Server maps histogram metric samples without a static mapping.
  // The action as JSON.stringify({ create: action }) writes it, without building the objects.
  const templates = dynamicTemplates === undefined ? '' : `,"dynamic_templates":${JSON.stringify(dynamicTemplates)}`;
  const action = `{"create":{"_index":${JSON.stringify(dataStream)},"_id":${JSON.stringify(id)}${templates}}}`;
  const json = fragments === undefined ? JSON.stringify(source) : sourceJson(source, fragments);
  const lines = `${action}\n${rawIntegers ? restoreRawIntegers(json) : json}\n`;
  return { id, dataStream, lines, bytes: Buffer.byteLength(lines) };
}

/** `"key":` of the top-level keys (a fixed set of field names; bounded all the same). */
const keyTexts = new Map<string, string>();

function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${JSON.stringify(key)}:`;
    if (keyTexts.size < 256) keyTexts.set(key, text);
  }
  return text;
}

/** The members of an object's JSON (without its braces), or '' for an empty object. */
function members(value: Record<string, unknown>): string {
  const json = JSON.stringify(value);
  return json.length > 2 ? json.slice(1, -1) : '';
}

/**
 * JSON.stringify(source), byte for byte, with the top-level values found in `fragments` written from their cached
 * JSON: the job's shared objects are half a document's bytes and most of its objects. The keys between two
 * fragments go through one JSON.stringify of an object holding just them (in order), so the serialization is
 * JSON.stringify's own for every value; keys in its order (for-in over a plain object without integer keys is
 * Object.keys' order, and JSON.stringify leaves out what it would leave out).
 */
function sourceJson(source: Record<string, unknown>, fragments: Fragments): string {
  let json = '';
  let run: Record<string, unknown> | undefined;
  const flush = (): void => {
    if (run === undefined) return;
    const text = members(run);
    if (text !== '') json += json === '' ? text : `,${text}`;
    run = undefined;
  };
  for (const key of Object.keys(source)) {
    // Assigning it would set the run's prototype: no field of ours, but leave such a source to JSON.stringify.
    if (key === '__proto__') return JSON.stringify(source);
    const value = source[key];
    const text = typeof value === 'object' && value !== null ? fragments.get(value) : undefined;
    if (text === undefined) {
      (run ??= {})[key] = value;
      continue;
    }
    flush();
    json += `${json === '' ? '' : ','}${keyText(key)}${text}`;
  }
  flush();
  return `{${json}}`;
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
