/**
 * What happened to each document, as Sentry Relay's "outcomes": every document a job carries ends in exactly one
 * of indexed, duplicate (already there: a redelivery) or dead_lettered. Also the parser of Elasticsearch's bulk
 * response: it comes from the network, so it is checked, not cast.
 */

import type { JSONSchemaType } from 'ajv';

import { InternalError } from '../core/errors';
import { isRecord, schemaParser } from '../core/parse';
import { outcomeOfStatus } from '../elasticsearch/outcome';
import { apmIndexPatterns } from '../elasticsearch/setup/roles';

/** Why Elasticsearch refused a document, as its item (or the request) said. */
interface Refusal {
  readonly status: number;
  readonly errorType: string;
  readonly reason: string;
}

/** The result of one item of one bulk request. */
export type ItemResult =
  { readonly kind: 'indexed' } | { readonly kind: 'duplicate' } | ({ readonly kind: 'retry' | 'rejected' } & Refusal);

/** The final outcome of one document, after all its attempts (a retry is not one: document_retries_total). */
export type DocumentOutcome = { readonly attempts: number } & (
  { readonly kind: 'indexed' } | { readonly kind: 'duplicate' } | ({ readonly kind: 'dead_lettered' } & Refusal)
);

export class BulkResponseError extends InternalError {
  constructor(message: string) {
    super('SIDECAR_ERR_BULK_RESPONSE', `unexpected bulk response: ${message}`);
  }
}

function itemError(error: unknown): { errorType: string; reason: string } {
  if (!isRecord(error)) return { errorType: 'unknown', reason: typeof error === 'string' ? error : 'no error detail' };
  const causedBy =
    isRecord(error.caused_by) && typeof error.caused_by.reason === 'string' ? `: ${error.caused_by.reason}` : '';
  const reason = typeof error.reason === 'string' ? `${error.reason}${causedBy}` : JSON.stringify(error);
  return { errorType: typeof error.type === 'string' ? error.type : 'unknown', reason };
}

/** In the writer role's patterns (and so in the templates `apm-sidecar setup` installs). */
export function isApmIndex(index: string): boolean {
  return apmIndexPatterns.some((pattern) => index.startsWith(pattern.slice(0, -1)));
}

/**
 * The dead-letter message of a document refused in `dataStream`: Elasticsearch's reason, with `apm-sidecar setup`
 * to run where the cluster lacks the APM index templates, and for a data stream outside the writer role (a 403,
 * or a 404 from require_data_stream as no template matches it either) what to grant. Elasticsearch's reason alone
 * would point at the role or at `apm-sidecar setup`, and neither helps. Only a `data_stream.dataset` attribute
 * (OTLP) routes a document there; the role is APM Server's documented writer role (auto_configure + create_doc on
 * traces-apm*, logs-apm*, metrics-apm*), kept least-privilege on purpose.
 */
export function refusalMessage(outcome: Refusal, dataStream: string): string {
  if (dataStream === '' || isApmIndex(dataStream) || (outcome.status !== 403 && outcome.status !== 404)) {
    return isMissingTemplate(outcome.errorType, outcome.reason)
      ? `${outcome.reason}: no index template with data_stream matches it. To remediate: run \`apm-sidecar setup\` (it installs the APM index templates), then \`apm-sidecar dlq replay\``
      : outcome.reason;
  }
  const stream = /^(traces|logs|metrics)-(.+)-[^-]+$/.exec(dataStream);
  const pattern = stream === null ? dataStream : `${stream[1]}-${stream[2]}-*`;
  return `${outcome.reason}: ${dataStream} is outside the writer role's ${apmIndexPatterns.join(', ')} (a data_stream.dataset attribute re-routed the document there). To remediate: grant the writer auto_configure and create_doc on ${pattern} and install an index template with data_stream for it, then \`apm-sidecar dlq replay\`; or remove the attribute at the sender`;
}

/** A per-item error that says the cluster lacks the index templates (require_data_stream): readiness shows it too. */
export function isMissingTemplate(errorType: string, reason: string): boolean {
  return errorType === 'index_not_found_exception' && reason.includes('require_data_stream');
}

/** One item's create (or index) result; `error` is read for its text only, however Elasticsearch shaped it. */
interface BulkAction {
  readonly _id?: string;
  readonly status: number;
}

interface BulkAnswer {
  readonly items: ReadonlyArray<{ readonly create?: BulkAction; readonly index?: BulkAction }>;
}

const actionSchema: JSONSchemaType<BulkAction> = {
  type: 'object',
  required: ['status'],
  properties: { _id: { type: 'string', nullable: true }, status: { type: 'number' } },
};

const parseBulkAnswer = schemaParser<BulkAnswer>(
  {
    type: 'object',
    required: ['items'],
    properties: {
      items: {
        type: 'array',
        items: {
          type: 'object',
          properties: { create: { ...actionSchema, nullable: true }, index: { ...actionSchema, nullable: true } },
        },
      },
    },
  },
  (problem) => new BulkResponseError(problem),
);

/** Shared: a bulk of thousands of written items allocates no result per item. */
const settled = { indexed: { kind: 'indexed' }, duplicate: { kind: 'duplicate' } } as const;

/** A bulk item: indexed or duplicate settle it; overloaded or retry send it again; anything else dead-letters it. */
function resultOf(action: BulkAction): ItemResult {
  const outcome = outcomeOfStatus(action.status);
  if (outcome === 'indexed' || outcome === 'duplicate') return settled[outcome];
  const kind = outcome === 'overloaded' || outcome === 'retry' ? 'retry' : 'rejected';
  return { kind, status: action.status, ...itemError('error' in action ? action.error : undefined) };
}

/** What an item the answer left out gets: sent again alone, like a 5xx item. */
export const missingItem: ItemResult = {
  kind: 'retry',
  status: 0,
  errorType: 'missing_item',
  reason: 'the bulk answer has no result for this document',
};

/**
 * Parses a bulk response body into one result per sent document, in order. Items are matched by `_id` when
 * the answer carries it (a proxy or a node can leave items out: those, and only those, are `missingItem`);
 * by position otherwise, when the counts agree. Throws BulkResponseError for anything else.
 */
export function parseBulkResponse(body: unknown, sentIds: readonly string[]): ItemResult[] {
  const actions = parseBulkAnswer(body).items.map((item, i) => {
    const action = item.create ?? item.index;
    if (action === undefined) throw new BulkResponseError(`items.${i} has neither create nor index`);
    return action;
  });
  if (actions.length === sentIds.length && actions.every((a, i) => a._id === undefined || a._id === sentIds[i]))
    return actions.map(resultOf);
  if (actions.some((a) => a._id === undefined))
    throw new BulkResponseError(`${actions.length} items for ${sentIds.length} sent, without _id`);
  // The same _id can be sent twice in one bulk (a job redelivered while its first run still goes on): answers
  // for one id are taken in order.
  const byId = new Map<string | undefined, ItemResult[]>();
  for (const action of actions) byId.set(action._id, [...(byId.get(action._id) ?? []), resultOf(action)]);
  return sentIds.map((id) => byId.get(id)?.shift() ?? missingItem);
}
