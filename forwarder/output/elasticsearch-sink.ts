import { promisify } from 'node:util';
import zlib from 'node:zlib';

import { type Client, errors } from '@elastic/elasticsearch';

import { fromElasticsearch, outcomeOfStatus } from '../../elasticsearch/outcome';
import { parseBulkResponse } from '../outcomes';
import type { BulkSink, BulkWriteResult, PreparedDocument, RequestFailure } from './sink';

/** Turns a thrown client error into what the batcher should do about it (see RequestFailure). */
function classifyRequestError(err: unknown): RequestFailure {
  if (err instanceof errors.ResponseError) {
    const status = err.meta.statusCode ?? 0;
    const failure = { status, errorType: `http_${status}`, reason: err.message };
    switch (outcomeOfStatus(status, fromElasticsearch(err.meta.headers))) {
      case 'too_large':
        return { kind: 'too_large', ...failure };
      case 'auth':
      case 'forbidden':
        return { kind: 'auth', ...failure };
      case 'not_elasticsearch':
        // A load balancer's or proxy's page (a 404 or 502 during a rollout): transient, never a reason to dead-letter.
        return {
          kind: 'retry',
          status,
          errorType: `not_elasticsearch_${status}`,
          reason: `HTTP ${status} without x-elastic-product: Elasticsearch`,
        };
      case 'overloaded':
        return { kind: 'overloaded', ...failure };
      case 'retry':
        return { kind: 'retry', ...failure };
      default:
        return { kind: 'rejected', ...failure };
    }
  }
  if (err instanceof errors.ProductNotSupportedError) {
    // Not Elasticsearch (a load balancer's error page, a wrong port): retry; readiness says what is wrong.
    return { kind: 'retry', status: null, errorType: 'product_not_supported', reason: err.message };
  }
  if (err instanceof errors.ConnectionError && /ECONNREFUSED/.test(err.message)) {
    return { kind: 'overloaded', status: null, errorType: err.name, reason: err.message };
  }
  if (err instanceof Error) {
    // ConnectionError, TimeoutError, NoLivingConnectionsError, a body that could not be parsed: all transient.
    return { kind: 'retry', status: null, errorType: err.name, reason: err.message };
  }
  return { kind: 'retry', status: null, errorType: 'unknown', reason: String(err) };
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
    const text = documents.map((d) => d.lines).join('');
    try {
      const compressed = this.compressionLevel > 0;
      const body = compressed ? await gzip(Buffer.from(text), { level: this.compressionLevel }) : text;
      const response = await this.client.transport.request(
        { method: 'POST', path: '/_bulk', bulkBody: body, querystring: await this.bulkParameters() },
        { meta: true, compression: false, ...(compressed ? { headers: { 'content-encoding': 'gzip' } } : {}) },
      );
      return {
        ok: true,
        items: parseBulkResponse(
          response.body,
          documents.map((d) => d.id),
        ),
      };
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
  const version = typeof info === 'object' && info !== null && 'version' in info ? info.version : undefined;
  const number =
    typeof version === 'object' && version !== null && 'number' in version && typeof version.number === 'string'
      ? version.number
      : '';
  const [major, minor] = number.split('.').map((n) => Number.parseInt(n, 10));
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) return false;
  return major > 8 || (major === 8 && minor >= 18);
}
