/**
 * The one rule for what an Elasticsearch answer means, used by every caller: a bulk item, a failed bulk request,
 * an operator-facing request (setup, check, privileges) and the agent-config read. Each maps these words to its
 * own action (retry a document, dead-letter it, name a remediation); none re-derives them from a status.
 *
 * 200/201 indexed; 409 duplicate (a document with this `_id` exists: a redelivery); 401 auth; 403 forbidden; 413
 * too_large (ours or a proxy's body limit). Without `x-elastic-product: Elasticsearch`, which Elasticsearch sends
 * on every answer it makes (since 7.14), anything else is a proxy's or load balancer's page: not_elasticsearch.
 * 429 and 503 overloaded; other 5xx, 408 and 0 (no answer) retry; any other 4xx rejected: it will fail the same
 * way every time.
 */
export function outcomeOfStatus(status: number, fromElasticsearch = true) {
  if (status === 200 || status === 201) return 'indexed';
  if (status === 409) return 'duplicate';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 413) return 'too_large';
  if (!fromElasticsearch) return 'not_elasticsearch';
  if (status === 429 || status === 503) return 'overloaded';
  if (status >= 500 || status === 408 || status === 0) return 'retry';
  return 'rejected';
}

/** The vocabulary: every word outcomeOfStatus answers. */
export type EsOutcome = ReturnType<typeof outcomeOfStatus>;

/** Whether response headers carry `x-elastic-product: Elasticsearch`. */
export function fromElasticsearch(headers: Record<string, string | string[] | undefined> | null | undefined): boolean {
  const value = headers?.['x-elastic-product'];
  return (Array.isArray(value) ? value[0] : value) === 'Elasticsearch';
}
