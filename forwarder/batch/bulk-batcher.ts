import { backoffCeiling, type BackoffPolicy, fullJitterDelay } from '../backoff';
import { type DocumentOutcome, type ItemResult, missingItem } from '../outcomes';
import type { BulkSink, PreparedDocument, RequestFailure } from '../output/sink';

export interface BulkBatcherOptions {
  /** A bulk is sent once its body reaches this many (uncompressed) bytes. */
  readonly flushBytes: number;
  /** ... or at the latest this long after its first document arrived. */
  readonly flushIntervalMs: number;
  /** Most bulk requests in flight at once. */
  readonly maxRequests: number;
  /**
   * How many jobs can wait on the batcher at once (the worker's concurrency). When all of them are waiting no
   * more documents can arrive, so waiting for the interval would only add latency: flush at once.
   */
  readonly maxSubmitters: number;
  readonly backoff: BackoffPolicy;
  readonly random?: () => number;
  /**
   * A request in flight longer than this gives up its slot, so a hung request costs only itself (at most
   * 4 x maxRequests are in flight in all). Default: adaptive, 4 x the average latency of answered bulks, at
   * least 250 ms.
   */
  readonly slowRequestMs?: number;
}

const minSlowRequestMs = 250;

/** What the batcher reports; metrics and the worker's pause-on-auth-failure listen here. */
export interface BatcherObserver {
  bulkStarted?(documents: number, bytes: number, inFlight: number): void;
  bulkFinished?(durationMs: number, result: 'ok' | RequestFailure['kind'], inFlight: number): void;
  itemsRetried?(count: number, waitingForRetry: number, lastDelayMs: number): void;
  retryReleased?(waitingForRetry: number): void;
  requestFailed?(failure: RequestFailure): void;
  requestSucceeded?(): void;
  /** A document Elasticsearch refused for good (it is dead-lettered). */
  itemRejected?(dataStream: string, errorType: string, reason: string): void;
}

interface PendingDocument {
  readonly doc: PreparedDocument;
  attempts: number;
  /** Sends so far; a request's answer decides a retry only if no later send (a hedge) took the document over. */
  sends: number;
  /** Sent again once because a request it was in went slow (at most once, so a sick cluster sees at most 2x). */
  hedged: boolean;
  /** Settled: the first final outcome wins, whichever request brought it. */
  done: boolean;
  readonly settle: (outcome: DocumentOutcome) => void;
}

/**
 * Collects the documents of many jobs into bulk requests bounded by bytes and time, with a bounded number in
 * flight. Each submit() resolves when every document it carried has a final outcome: written, already there, or
 * rejected for good. Items that can succeed later (429, 5xx, connection errors, left out of the answer) are
 * retried alone, with exponential backoff and full jitter, for as long as it takes: at-least-once means nothing
 * is dropped. A failed or hung request costs only itself: a slow one gives up its slot, and only signals that
 * the whole cluster refuses hold every bulk back. A bulk answered 413 or 400 is split until the document that
 * causes it is alone.
 */
export class BulkBatcher {
  private buffer: PendingDocument[] = [];
  private bufferedBytes = 0;
  private due = false;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  /** Requests in flight that still hold a slot (those not yet slow). */
  private occupied = 0;
  private averageMs = 0;
  /** While the whole cluster refuses (429 on every item, 503, connection refused): no bulk starts before this. */
  private holdUntil = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private overloadedStreak = 0;
  /** Halves of bulks answered 413 or 400, sent before anything else. */
  private readonly splits: PendingDocument[][] = [];
  private submitters = 0;
  private draining = false;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly idleWaiters: Array<() => void> = [];
  private readonly random: () => number;

  constructor(
    private readonly sink: BulkSink,
    private readonly options: BulkBatcherOptions,
    private readonly observer: BatcherObserver = {},
  ) {
    this.random = options.random ?? Math.random;
  }

  /** Adds documents to the next bulks; resolves with one outcome per document, in order. */
  async submit(documents: readonly PreparedDocument[]): Promise<DocumentOutcome[]> {
    if (documents.length === 0) return [];
    this.submitters++;
    try {
      const outcomes = documents.map(
        (doc) =>
          new Promise<DocumentOutcome>((resolve) => {
            const pending: PendingDocument = {
              doc,
              attempts: 0,
              sends: 0,
              hedged: false,
              done: false,
              settle: (outcome) => {
                if (pending.done) return;
                pending.done = true;
                resolve(outcome);
              },
            };
            this.enqueue(pending);
          }),
      );
      this.pump();
      return await Promise.all(outcomes);
    } finally {
      this.submitters--;
    }
  }

  /** Sends what is buffered now, without waiting for the interval (a job worked on alone has submitted all). */
  flush(): void {
    if (this.buffer.length === 0) return;
    this.due = true;
    this.pump();
  }

  /** From now on send what is buffered without waiting for the interval (shutdown). */
  drain(): void {
    this.draining = true;
    this.due = true;
    this.pump();
  }

  /** Resolves when nothing is buffered, in flight or waiting for a retry. */
  async idle(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops timers. Documents still pending never settle: their jobs' locks lapse and another worker redoes them. */
  close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    for (const t of this.retryTimers) clearTimeout(t);
    this.retryTimers.clear();
    this.timer = undefined;
    return Promise.resolve();
  }

  private isIdle(): boolean {
    return this.buffer.length === 0 && this.splits.length === 0 && this.inFlight === 0 && this.retryTimers.size === 0;
  }

  private enqueue(pending: PendingDocument): void {
    if (this.buffer.length === 0 && !this.draining) this.startTimer();
    this.buffer.push(pending);
    this.bufferedBytes += pending.doc.bytes;
  }

  private startTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.due = true;
      this.pump();
    }, this.options.flushIntervalMs);
  }

  /** Sends bulks while one is ready and a request slot is free. */
  private pump(): void {
    if (!this.holding()) {
      while (this.slotFree() && this.splits.length > 0) void this.send(this.splits.shift() ?? []);
      while (this.buffer.length > 0 && this.slotFree() && this.readyToSend()) void this.send(this.takeBatch());
    }
    if (this.buffer.length === 0) {
      this.due = this.draining;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.notifyIdle();
  }

  private slotFree(): boolean {
    return this.occupied < this.options.maxRequests && this.inFlight < this.options.maxRequests * 4;
  }

  private holding(): boolean {
    const wait = this.holdUntil - Date.now();
    if (wait <= 0) return false;
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = undefined;
      this.pump();
    }, wait);
    return true;
  }

  private readyToSend(): boolean {
    if (this.due || this.bufferedBytes >= this.options.flushBytes) return true;
    // Every job slot waits on us, so no more documents can arrive until some of ours are done: waiting for the
    // interval would only add latency. (Retries due soon may still join, so those are waited for.)
    return this.submitters >= this.options.maxSubmitters && this.retryTimers.size === 0;
  }

  /** Takes documents up to flushBytes (always at least one, so an oversized document still goes alone). */
  private takeBatch(): PendingDocument[] {
    let bytes = 0;
    let count = 0;
    for (const pending of this.buffer) {
      if (count > 0 && bytes + pending.doc.bytes > this.options.flushBytes) break;
      bytes += pending.doc.bytes;
      count++;
    }
    const batch = this.buffer.splice(0, count);
    this.bufferedBytes -= bytes;
    return batch;
  }

  private async send(batch: PendingDocument[]): Promise<void> {
    this.inFlight++;
    this.occupied++;
    let holdsSlot = true;
    const sentAs = batch.map((p) => ++p.sends);
    const slow = setTimeout(
      () => {
        holdsSlot = false;
        this.occupied--;
        this.hedge(batch, sentAs);
        this.pump();
      },
      this.options.slowRequestMs ?? Math.max(minSlowRequestMs, 4 * this.averageMs),
    );
    const bytes = batch.reduce((n, p) => n + p.doc.bytes, 0);
    this.observer.bulkStarted?.(batch.length, bytes, this.inFlight);
    for (const pending of batch) pending.attempts++;
    const started = performance.now();
    const result = await this.sink.write(batch.map((p) => p.doc));
    clearTimeout(slow);
    if (holdsSlot) this.occupied--;
    this.inFlight--;
    const duration = performance.now() - started;
    this.observer.bulkFinished?.(duration, result.ok ? 'ok' : result.failure.kind, this.inFlight);
    if (result.ok) {
      this.averageMs = this.averageMs === 0 ? duration : 0.8 * this.averageMs + 0.2 * duration;
      this.observer.requestSucceeded?.();
      this.settleItems(batch, sentAs, result.items);
    } else {
      this.observer.requestFailed?.(result.failure);
      // Only the documents this request is still responsible for: a hedge owns the others.
      const own = batch.filter((p, i) => !p.done && p.sends === sentAs[i]);
      if (own.length > 0) this.settleFailedRequest(own, bytes, result.failure);
    }
    this.pump();
  }

  /**
   * A request gone slow (it just gave up its slot) may be one that never comes back: its documents are sent once
   * more in another bulk, so the jobs waiting on them wait for the slow threshold, not for the timeout and a
   * backoff. Whichever answer comes first settles a document; a duplicate write is a 409 under the same _id.
   * Only once the cluster has answered a bulk (a known average latency), not during a hold, and once per document.
   */
  private hedge(batch: PendingDocument[], sentAs: readonly number[]): void {
    if (this.averageMs === 0 || this.holdUntil > Date.now()) return;
    const again = batch.filter((p, i) => !p.done && !p.hedged && p.sends === sentAs[i]);
    for (const pending of again) {
      pending.hedged = true;
      this.enqueue(pending);
    }
    if (again.length > 0) this.observer.itemsRetried?.(again.length, this.retryTimers.size, 0);
  }

  private settleItems(batch: PendingDocument[], sentAs: readonly number[], items: readonly ItemResult[]): void {
    const retries: PendingDocument[] = [];
    batch.forEach((pending, i) => {
      const item = items[i] ?? missingItem;
      if (pending.done) return;
      if (item.kind === 'retry') {
        // A later send (a hedge) answers for this document now.
        if (pending.sends === sentAs[i]) retries.push(pending);
      } else if (item.kind === 'rejected') {
        this.observer.itemRejected?.(pending.doc.dataStream, item.errorType, item.reason);
        pending.settle({ ...item, kind: 'dead_lettered', attempts: pending.attempts });
      } else pending.settle({ kind: item.kind, attempts: pending.attempts });
    });
    // 429 on every item is the whole cluster refusing (its write queues are full): hold off as for a 503.
    const allRejected =
      items.length === batch.length && items.every((item) => item.kind === 'retry' && item.status === 429);
    if (allRejected) this.holdOff();
    else this.overloadedStreak = 0;
    this.scheduleRetries(retries);
  }

  private settleFailedRequest(batch: PendingDocument[], bytes: number, failure: RequestFailure): void {
    if (failure.kind === 'too_large' || failure.kind === 'rejected') {
      if (batch.length > 1) {
        // Split and send the halves at once: only a document that fails alone is refused for good.
        const half = Math.ceil(batch.length / 2);
        this.splits.push(batch.slice(0, half), batch.slice(half));
        return;
      }
      const reason =
        failure.kind === 'too_large'
          ? `a single document of ${bytes} bytes is over the request size limit (HTTP 413): raise http.max_content_length or the reverse proxy's body limit, or lower server.max_event_size`
          : failure.reason;
      const errorType = failure.kind === 'too_large' ? 'document_too_large' : failure.errorType;
      for (const p of batch)
        p.settle({ kind: 'dead_lettered', attempts: p.attempts, status: failure.status ?? 0, errorType, reason });
      return;
    }
    if (failure.kind === 'overloaded') this.holdOff();
    this.scheduleRetries(batch);
  }

  /** Holds every new bulk back for a backoff that grows while the cluster keeps refusing. */
  private holdOff(): void {
    this.overloadedStreak++;
    const ceiling = backoffCeiling(this.options.backoff, this.overloadedStreak);
    this.holdUntil = Math.max(this.holdUntil, Date.now() + ceiling / 2 + this.random() * (ceiling / 2));
  }

  private scheduleRetries(retries: PendingDocument[]): void {
    let lastDelay = 0;
    for (const pending of retries) {
      const delay = fullJitterDelay(this.options.backoff, pending.attempts, this.random);
      lastDelay = delay;
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.observer.retryReleased?.(this.retryTimers.size);
        this.enqueue(pending);
        this.pump();
      }, delay);
      this.retryTimers.add(timer);
    }
    if (retries.length > 0) this.observer.itemsRetried?.(retries.length, this.retryTimers.size, lastDelay);
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
