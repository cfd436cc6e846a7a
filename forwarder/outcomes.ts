/**
 * What happened to each document, as Sentry Relay's "outcomes": every document a job carries ends in exactly one
 * of indexed, duplicate (already there: a redelivery) or dead_lettered; `retried` counts attempts on the way.
 * Also the parser of Elasticsearch's bulk response: it comes from the network, so it is checked, not cast.
 */

/** The result of one item of one bulk request. */
export type ItemResult =
  | { readonly kind: 'indexed' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'retry'; readonly status: number; readonly errorType: string; readonly reason: string }
  | { readonly kind: 'rejected'; readonly status: number; readonly errorType: string; readonly reason: string };

/** The final outcome of one document, after all its attempts. */
export type DocumentOutcome =
  | { readonly kind: 'indexed'; readonly attempts: number }
  | { readonly kind: 'duplicate'; readonly attempts: number }
  | {
      readonly kind: 'dead_letter';
      readonly attempts: number;
      readonly status: number;
      readonly errorType: string;
      readonly reason: string;
    };

export type OutcomeLabel = 'indexed' | 'duplicate' | 'retried' | 'dead_lettered';

/**
 * 201 and 200 are written; 409 means a document with this `_id` exists (a redelivered event): delivered. 429 and
 * 5xx can succeed later. Any other 4xx (mapping errors, a missing data stream template) will fail the same way
 * every time: dead-letter it rather than block the job forever.
 */
export function classifyItemStatus(status: number): 'indexed' | 'duplicate' | 'retry' | 'rejected' {
  if (status === 200 || status === 201) return 'indexed';
  if (status === 409) return 'duplicate';
  if (status === 429 || status >= 500) return 'retry';
  return 'rejected';
}

export class BulkResponseError extends Error {
  constructor(message: string) {
    super(`unexpected bulk response: ${message}`);
    this.name = 'BulkResponseError';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function itemError(error: unknown): { errorType: string; reason: string } {
  if (isRecord(error)) {
    const errorType = typeof error.type === 'string' ? error.type : 'unknown';
    const causedBy = isRecord(error.caused_by) && typeof error.caused_by.reason === 'string' ? `: ${error.caused_by.reason}` : '';
    const reason = typeof error.reason === 'string' ? `${error.reason}${causedBy}` : JSON.stringify(error);
    return { errorType, reason };
  }
  return { errorType: 'unknown', reason: typeof error === 'string' ? error : 'no error detail' };
}

function parseItem(item: unknown, position: number): ItemResult {
  if (!isRecord(item)) throw new BulkResponseError(`item ${position} is not an object`);
  const action = item.create ?? item.index;
  if (!isRecord(action) || typeof action.status !== 'number') {
    throw new BulkResponseError(`item ${position} has no create result with a numeric status`);
  }
  const kind = classifyItemStatus(action.status);
  if (kind === 'indexed' || kind === 'duplicate') return { kind };
  return { kind, status: action.status, ...itemError(action.error) };
}

/** Parses a bulk response body into one result per sent item, in order; throws BulkResponseError otherwise. */
export function parseBulkResponse(body: unknown, sentItems: number): ItemResult[] {
  if (!isRecord(body) || !Array.isArray(body.items)) throw new BulkResponseError('no items array');
  const items: unknown[] = body.items;
  if (items.length !== sentItems) throw new BulkResponseError(`${items.length} items for ${sentItems} sent`);
  return items.map((item, i) => parseItem(item, i));
}
