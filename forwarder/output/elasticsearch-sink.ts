import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { type Client, errors } from '@elastic/elasticsearch';

import { isRecord } from '../../core/parse';
import { type EsOutcome, fromElasticsearch, outcomeOfStatus } from '../../elasticsearch/outcome';
import { parseBulkResponse } from '../outcomes';
import type { BulkSink, BulkWriteResult, PreparedDocument, RequestFailure } from './sink';

/** What an answer of each outcome costs a bulk request (see RequestFailure); any other outcome is rejected. */
const costOf: Partial<Record<EsOutcome, RequestFailure['kind']>> = {
  too_large: 'too_large',
  auth: 'auth',
  forbidden: 'auth',
  // A load balancer's or proxy's page (a 404 or 502 during a rollout): transient, never a reason to dead-letter.
  not_elasticsearch: 'retry',
  overloaded: 'overloaded',
  retry: 'retry',
};

/** Turns a thrown client error into what the batcher should do about it. */
function classifyRequestError(err: unknown): RequestFailure {
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    const outcome = outcomeOfStatus(status, fromElasticsearch(err.meta.headers));
    const kind = costOf[outcome] ?? 'rejected';
    if (outcome !== 'not_elasticsearch') return { kind, status, errorType: `http_${status}`, reason: err.message };
    const reason = `HTTP ${status} without x-elastic-product: Elasticsearch`;
    return { kind, status, errorType: `not_elasticsearch_${status}`, reason };
  }
  if (!(err instanceof Error)) return { kind: 'retry', status: null, errorType: 'unknown', reason: String(err) };
  // Refused connections mean the whole cluster is down; a timeout, a reset, an unparsable body are transient, and
  // so is an answer that is not Elasticsearch's (a load balancer's page, a wrong port: readiness says which).
  const refused = err instanceof errors.ConnectionError && /ECONNREFUSED/.test(err.message);
  const errorType = err instanceof errors.ProductNotSupportedError ? 'product_not_supported' : err.name;
  return { kind: refused ? 'overloaded' : 'retry', status: null, errorType, reason: err.message };
}

const gzip = promisify(zlib.gzip);

/**
 * Writes bulks with `client.transport.request`: the body is serialized once by the batcher and gzip-compressed
 * here at output.elasticsearch.compression_level (the transport's own compression is fixed at level 6, which
 * costs about twice the CPU of level 1 for bulk bodies of APM documents). The loop around it (retries,
 * outcomes) is the batcher's; helpers.bulk would drop failed items.
 */
export class ElasticsearchSink implements BulkSink {
  /** Whether the cluster takes `include_source_on_error` (8.18+); asked once, again after a failed ask. */
  private sourceOnError: Promise<boolean> | undefined;

  constructor(
    private readonly client: Client,
    private readonly compressionLevel = 1,
  ) {}

  async write(documents: readonly PreparedDocument[]): Promise<BulkWriteResult> {
    try {
      // The documents' lines written into one buffer of their known size: no joined string of the whole bulk (a
      // megabyte-sized string goes to V8's large-object space, which only a major collection frees), no second copy.
      const raw = Buffer.allocUnsafe(documents.reduce((n, d) => n + d.bytes, 0));
      let at = 0;
      for (const d of documents) at += raw.write(d.lines, at);
      const compressed = this.compressionLevel > 0;
      const body = compressed ? await gzip(raw, { level: this.compressionLevel }) : raw;
      const response = await this.client.transport.request(
        { method: 'POST', path: '/_bulk', bulkBody: body, querystring: await this.bulkParameters() },
        { meta: true, compression: false, ...(compressed ? { headers: { 'content-encoding': 'gzip' } } : {}) },
      );
      const sentIds = documents.map((d) => d.id);
      return { ok: true, items: parseBulkResponse(response.body, sentIds) };
    } catch (err) {
      return { ok: false, failure: classifyRequestError(err) };
    }
  }

  /**
   * As APM Server: `require_data_stream=true`, so a missing index template is a per-item error that names it
   * instead of a plain index created silently; `include_source_on_error=false` where the cluster knows it, so
   * document bodies do not land in error messages (and from there in logs and the dead-letter queue).
   */
  private async bulkParameters(): Promise<Record<string, string>> {
    const base = { filter_path: 'errors,items.*._id,items.*.status,items.*.error', require_data_stream: 'true' };
    this.sourceOnError ??= this.client.transport.request({ method: 'GET', path: '/' }).then(takesSourceOnError, () => {
      this.sourceOnError = undefined;
      return false;
    });
    return (await this.sourceOnError) ? { ...base, include_source_on_error: 'false' } : base;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

/** `include_source_on_error` came with Elasticsearch 8.18 (an older node refuses the unknown parameter with 400). */
function takesSourceOnError(info: unknown): boolean {
  const number = isRecord(info) && isRecord(info.version) ? info.version.number : undefined;
  const [major = 0, minor = 0] = /^(\d+)\.(\d+)/.exec(String(number))?.slice(1).map(Number) ?? [];
  return major > 8 || (major === 8 && minor >= 18);
}
