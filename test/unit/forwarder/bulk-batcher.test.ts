import { backoffCeiling, fullJitterDelay } from '../../../forwarder/backoff';
import { BulkBatcher, type BulkBatcherOptions } from '../../../forwarder/batch/bulk-batcher';
import { type ItemResult, missingItem } from '../../../forwarder/outcomes';
import {
  type BulkSink,
  type BulkWriteResult,
  type PreparedDocument,
  prepareDocument,
} from '../../../forwarder/output/sink';

/** A sink that records each bulk and answers with whatever the test scripts per document id. */
class ScriptedSink implements BulkSink {
  readonly bulks: string[][] = [];
  answer: (doc: PreparedDocument, attempt: number) => ItemResult = () => ({ kind: 'indexed' });
  requestFailure: ((bulk: number) => BulkWriteResult | undefined) | undefined;
  private readonly attempts = new Map<string, number>();

  write(documents: readonly PreparedDocument[]): Promise<BulkWriteResult> {
    this.bulks.push(documents.map((d) => d.id));
    const failed = this.requestFailure?.(this.bulks.length);
    if (failed !== undefined) return Promise.resolve(failed);
    const items = documents.map((d) => {
      const n = (this.attempts.get(d.id) ?? 0) + 1;
      this.attempts.set(d.id, n);
      return this.answer(d, n);
    });
    return Promise.resolve({ ok: true, items });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const docs = (prefix: string, n: number): PreparedDocument[] =>
  Array.from({ length: n }, (_, i) =>
    prepareDocument(`${prefix}.${i}`, { dataStream: 'traces-apm-default', source: { i, pad: 'x'.repeat(50) } }),
  );

function options(overrides: Partial<BulkBatcherOptions> = {}): BulkBatcherOptions {
  return {
    flushBytes: 1_000_000,
    flushIntervalMs: 20,
    maxRequests: 2,
    maxSubmitters: 100,
    backoff: { initMs: 1, maxMs: 5 },
    ...overrides,
  };
}

describe('BulkBatcher', () => {
  it('puts the documents of several jobs into one bulk and resolves each job with its own outcomes', async () => {
    const sink = new ScriptedSink();
    const batcher = new BulkBatcher(sink, options());
    const [a, b] = await Promise.all([batcher.submit(docs('a', 3)), batcher.submit(docs('b', 2))]);
    expect(sink.bulks).toEqual([['a.0', 'a.1', 'a.2', 'b.0', 'b.1']]);
    expect(a.map((o) => o.kind)).toEqual(['indexed', 'indexed', 'indexed']);
    expect(b).toHaveLength(2);
    await batcher.close();
  });

  it('splits by flush_bytes and never sends more than max_requests at once', async () => {
    let inFlight = 0;
    let most = 0;
    const sink = new ScriptedSink();
    const slow: BulkSink = {
      write: async (d) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return sink.write(d);
      },
      close: () => Promise.resolve(),
    };
    const all = docs('x', 95);
    const largest = Math.max(...all.map((d) => d.bytes));
    const bytesOf = new Map(all.map((d) => [d.id, d.bytes]));
    const batcher = new BulkBatcher(slow, options({ flushBytes: largest * 10, maxRequests: 2 }));
    const outcomes = await batcher.submit(all);
    expect(outcomes.every((o) => o.kind === 'indexed')).toBe(true);
    expect(sink.bulks.flat()).toHaveLength(95);
    for (const bulk of sink.bulks)
      expect(bulk.reduce((n, id) => n + (bytesOf.get(id) ?? 0), 0)).toBeLessThanOrEqual(largest * 10);
    expect(sink.bulks.length).toBeGreaterThanOrEqual(10);
    expect(most).toBe(2);
    await batcher.close();
  });

  it('retries only the failed items (429, 5xx) until they succeed; 409 counts as delivered', async () => {
    const sink = new ScriptedSink();
    sink.answer = (doc, attempt) => {
      if (doc.id === 'j.1' && attempt < 3)
        return { kind: 'retry', status: 429, errorType: 'es_rejected_execution_exception', reason: 'queue full' };
      if (doc.id === 'j.2' && attempt < 2)
        return { kind: 'retry', status: 503, errorType: 'unavailable_shards_exception', reason: 'x' };
      if (doc.id === 'j.3') return { kind: 'duplicate' };
      return { kind: 'indexed' };
    };
    const retried: number[] = [];
    const batcher = new BulkBatcher(sink, options(), { itemsRetried: (n) => retried.push(n) });
    const outcomes = await batcher.submit(docs('j', 4));
    expect(outcomes).toEqual([
      { kind: 'indexed', attempts: 1 },
      { kind: 'indexed', attempts: 3 },
      { kind: 'indexed', attempts: 2 },
      { kind: 'duplicate', attempts: 1 },
    ]);
    expect(sink.bulks[0]).toEqual(['j.0', 'j.1', 'j.2', 'j.3']);
    expect(sink.bulks.slice(1).flat().sort()).toEqual(['j.1', 'j.1', 'j.2']);
    expect(retried.reduce((a, b) => a + b, 0)).toBe(3);
    await batcher.close();
  });

  it('dead-letters items Elasticsearch refuses for good, with the reason and the attempt count', async () => {
    const sink = new ScriptedSink();
    sink.answer = (doc) =>
      doc.id === 'm.0'
        ? {
            kind: 'rejected',
            status: 400,
            errorType: 'document_parsing_exception',
            reason: 'failed to parse field [x]',
          }
        : { kind: 'indexed' };
    const batcher = new BulkBatcher(sink, options());
    const [bad, good] = await batcher.submit(docs('m', 2));
    expect(bad).toEqual({
      kind: 'dead_lettered',
      attempts: 1,
      status: 400,
      errorType: 'document_parsing_exception',
      reason: 'failed to parse field [x]',
    });
    expect(good?.kind).toBe('indexed');
    await batcher.close();
  });

  it('retries the whole bulk after a request-level failure and reports it (connection refused, 401)', async () => {
    const sink = new ScriptedSink();
    sink.requestFailure = (n) =>
      n === 1
        ? { ok: false, failure: { kind: 'retry', status: null, errorType: 'ConnectionError', reason: 'ECONNREFUSED' } }
        : n === 2
          ? { ok: false, failure: { kind: 'auth', status: 401, errorType: 'http_401', reason: 'bad credentials' } }
          : undefined;
    const failures: string[] = [];
    const batcher = new BulkBatcher(sink, options(), { requestFailed: (f) => failures.push(f.kind) });
    const outcomes = await batcher.submit(docs('r', 3));
    expect(outcomes.map((o) => o.attempts)).toEqual([3, 3, 3]);
    expect(failures).toEqual(['retry', 'auth']);
    await batcher.close();
  });

  it('splits a bulk answered 413 until it fits, and dead-letters only a single document over the limit, with its size', async () => {
    const sink = new ScriptedSink();
    const all = [
      ...docs('s', 6),
      prepareDocument('s.big', { dataStream: 'traces-apm-default', source: { pad: 'x'.repeat(500) } }),
    ];
    const limit = all.reduce((n, d) => Math.max(n, d.id === 's.big' ? 0 : d.bytes), 0) * 2;
    const bulkBytes = new Map(all.map((d) => [d.id, d.bytes]));
    sink.requestFailure = (n) => {
      const bytes = (sink.bulks[n - 1] ?? []).reduce((sum, id) => sum + (bulkBytes.get(id) ?? 0), 0);
      return bytes > limit
        ? {
            ok: false,
            failure: { kind: 'too_large', status: 413, errorType: 'http_413', reason: '413 Request Entity Too Large' },
          }
        : undefined;
    };
    const batcher = new BulkBatcher(sink, options());
    const outcomes = await batcher.submit(all);
    expect(outcomes.slice(0, 6).every((o) => o.kind === 'indexed')).toBe(true);
    const big = outcomes[6];
    expect(big?.kind).toBe('dead_lettered');
    if (big?.kind === 'dead_lettered') {
      expect(big.errorType).toBe('document_too_large');
      expect(big.reason).toContain(
        `a single document of ${bulkBytes.get('s.big') ?? 0} bytes is over the request size limit`,
      );
    }
    expect(sink.bulks[0]).toHaveLength(7);
    await batcher.close();
  });

  it('splits a bulk Elasticsearch refuses as a whole (400), so only the document that causes it is dead-lettered', async () => {
    const sink = new ScriptedSink();
    sink.requestFailure = (n) =>
      sink.bulks[n - 1]?.includes('w.5') === true
        ? {
            ok: false,
            failure: { kind: 'rejected', status: 400, errorType: 'http_400', reason: 'x_content_parse_exception' },
          }
        : undefined;
    const batcher = new BulkBatcher(sink, options());
    const outcomes = await batcher.submit(docs('w', 8));
    expect(outcomes.map((o) => o.kind)).toEqual([
      'indexed',
      'indexed',
      'indexed',
      'indexed',
      'indexed',
      'dead_lettered',
      'indexed',
      'indexed',
    ]);
    expect(sink.bulks.flat().filter((id) => id === 'w.0')).toHaveLength(2);
    await batcher.close();
  });

  it('sends again only the item an answer left out', async () => {
    const sink = new ScriptedSink();
    sink.answer = (doc, attempt) => (doc.id === 'o.2' && attempt === 1 ? missingItem : { kind: 'indexed' });
    const batcher = new BulkBatcher(sink, options());
    const outcomes = await batcher.submit(docs('o', 4));
    expect(outcomes.map((o) => o.attempts)).toEqual([1, 1, 2, 1]);
    expect(sink.bulks).toEqual([['o.0', 'o.1', 'o.2', 'o.3'], ['o.2']]);
    await batcher.close();
  });

  it('lets a hung request give up its slot, so the next bulks go while it hangs', async () => {
    const sink = new ScriptedSink();
    let release: () => void = () => undefined;
    const hung = new Promise<void>((r) => (release = r));
    const hanging: BulkSink = {
      write: async (d) => {
        if (d.some((doc) => doc.id === 'h.0')) await hung;
        return sink.write(d);
      },
      close: () => Promise.resolve(),
    };
    const batcher = new BulkBatcher(hanging, options({ maxRequests: 1, slowRequestMs: 20, maxSubmitters: 1 }));
    const first = batcher.submit(docs('h', 1));
    await expect(batcher.submit(docs('k', 3))).resolves.toHaveLength(3);
    expect(sink.bulks).toEqual([['k.0', 'k.1', 'k.2']]);
    release();
    await expect(first).resolves.toEqual([{ kind: 'indexed', attempts: 1 }]);
    await batcher.close();
  });

  it('sends the documents of a slow request once more while the cluster answers others, first answer wins', async () => {
    const sink = new ScriptedSink();
    let release: () => void = () => undefined;
    const hung = new Promise<void>((r) => (release = r));
    let hungOnce = false;
    const hanging: BulkSink = {
      write: async (d) => {
        // The first request carrying s.0 never answers until released (a hung bulk); any later one does.
        if (!hungOnce && d.some((doc) => doc.id === 's.0')) {
          hungOnce = true;
          await hung;
        }
        return sink.write(d);
      },
      close: () => Promise.resolve(),
    };
    const batcher = new BulkBatcher(hanging, options({ maxRequests: 1, slowRequestMs: 20, maxSubmitters: 1 }));
    await batcher.submit(docs('w', 1)); // the cluster has answered: its latency is known
    // The job resolves from the hedge, without waiting for the hung request (before, it waited for it).
    await expect(batcher.submit(docs('s', 2))).resolves.toEqual([
      { kind: 'indexed', attempts: 2 },
      { kind: 'indexed', attempts: 2 },
    ]);
    release(); // the hung request answers late: nothing is settled twice or sent a third time
    await batcher.idle();
    expect(sink.bulks).toEqual([['w.0'], ['s.0', 's.1'], ['s.0', 's.1']]);
    await batcher.close();
  });

  it('holds every bulk back only when the whole cluster refuses (503), not after a failure of one request', async () => {
    const times: number[] = [];
    const run = async (kind: 'retry' | 'overloaded'): Promise<number> => {
      const sink = new ScriptedSink();
      times.length = 0;
      sink.requestFailure = (n) => {
        times.push(performance.now());
        return n === 1
          ? { ok: false, failure: { kind, status: 503, errorType: 'http_503', reason: 'unavailable' } }
          : undefined;
      };
      // random 0: retries are due at once; only a hold can delay the second bulk.
      const batcher = new BulkBatcher(sink, options({ backoff: { initMs: 2000, maxMs: 2000 }, random: () => 0 }));
      await batcher.submit(docs(kind, 2));
      await batcher.close();
      return (times[1] ?? 0) - (times[0] ?? 0);
    };
    expect(await run('overloaded')).toBeGreaterThanOrEqual(999);
    expect(await run('retry')).toBeLessThan(999);
  });

  it('flushes at once when every job slot is waiting on it, without waiting for the interval', async () => {
    const sink = new ScriptedSink();
    const batcher = new BulkBatcher(sink, options({ flushIntervalMs: 60_000, maxSubmitters: 2 }));
    const both = Promise.all([batcher.submit(docs('p', 1)), batcher.submit(docs('q', 1))]);
    await expect(both).resolves.toHaveLength(2);
    expect(sink.bulks).toEqual([['p.0', 'q.0']]);
    await batcher.close();
  });

  it('drain() sends what is buffered without waiting for the interval', async () => {
    const sink = new ScriptedSink();
    const batcher = new BulkBatcher(sink, options({ flushIntervalMs: 60_000 }));
    const pending = batcher.submit(docs('d', 2));
    batcher.drain();
    await expect(pending).resolves.toHaveLength(2);
    await batcher.idle();
    await batcher.close();
  });
});

describe('backoff', () => {
  it('doubles from init up to max, with full jitter below the ceiling', () => {
    const policy = { initMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 50].map((a) => backoffCeiling(policy, a))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(fullJitterDelay(policy, 3, () => 0.5)).toBe(200);
    expect(fullJitterDelay(policy, 3, () => 0)).toBe(0);
  });
});
