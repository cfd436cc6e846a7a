import { SidecarError } from '../../core/errors';
import type { HeapReclaimer } from './heap-reclaimer';

/**
 * server.max_inflight_bytes: one budget for the request bytes all intake requests hold in memory at once (the
 * received body kept as the job's payload, the line being judged, the job being sent to Redis). Each request
 * takes a lease; the lease reserves as bytes arrive and gives everything back when the request is done. Beyond
 * the budget the request is shed with 503 + Retry-After (SIDECAR_ERR_OVERLOADED) and nothing of it is queued; a
 * request that alone would need more than the whole budget can never fit and is refused as too large.
 * Per-request bounds (max_event_size, max_request_size) stay as they are; this one bounds their sum.
 */
/**
 * What queueing a compressed payload holds besides the bytes received, per payload byte, all at once while ioredis
 * builds the command: the payload joined (1), its base64 text (4/3), the job's JSON (4/3), the command's string
 * flattened (4/3) and the command's buffer (4/3). Measured on a 4 MiB payload with BullMQ 5.81 and ioredis 5.11 at
 * Command.toWritable: ArrayBuffers +9.3 MiB and heap +16.4 MiB, 6.4 per byte (it was counted as 3). The strings
 * are large objects, garbage in the old generation once the job is sent, so the reclaimer hears of them too.
 */
export const enqueueOverhead = 6.5;

/** A refusal of the budget: the whole request fails with it (nothing queued), unlike a bad line. */
export class BudgetError extends SidecarError {}

export class MemoryBudget {
  private held = 0;
  private peakHeld = 0;

  /**
   * `limit` 0: no global bound (leases only count). `reclaimer`: told what each finished request gives back, so its
   * dead buffers are collected soon instead of adding to the peak (heap-reclaimer.ts).
   */
  constructor(
    readonly limit: number,
    private readonly reclaimer?: HeapReclaimer,
  ) {}

  lease(): MemoryLease {
    return new MemoryLease(this);
  }

  /** Bytes held by every lease now. */
  get inUse(): number {
    return this.held;
  }

  /** Most bytes held at once since start. */
  get peak(): number {
    return this.peakHeld;
  }

  /** @internal by MemoryLease */
  take(bytes: number, leaseHeld: number): void {
    if (this.limit > 0 && this.held + bytes > this.limit) {
      if (leaseHeld + bytes > this.limit) throw new BudgetError('SIDECAR_ERR_REQUEST_TOO_LARGE');
      throw new BudgetError('SIDECAR_ERR_OVERLOADED');
    }
    this.held += bytes;
    if (this.held > this.peakHeld) this.peakHeld = this.held;
  }

  /** @internal by MemoryLease */
  give(bytes: number): void {
    this.held -= bytes;
  }

  /** @internal by MemoryLease: a finished request's bytes, now garbage (given back already). */
  released(bytes: number): void {
    this.reclaimer?.returnedBytes(bytes, this.held);
  }
}

export class MemoryLease {
  private held = 0;
  private released = false;

  constructor(private readonly budget: MemoryBudget) {}

  /** Reserves `bytes` or throws (503 overloaded, or too large when this request alone exceeds the budget). */
  reserve(bytes: number): void {
    if (this.released) return;
    this.budget.take(bytes, this.held);
    this.held += bytes;
  }

  /**
   * A body received compressed is queued as it came: once its `received` bytes, held and queued, exceed the whole
   * budget it can never fit, so it is refused as too large at once instead of being read to its end first.
   */
  assertQueueable(received: number): void {
    if (this.budget.limit > 0 && received * (1 + enqueueOverhead) > this.budget.limit)
      throw new BudgetError('SIDECAR_ERR_REQUEST_TOO_LARGE');
  }

  /** Gives back part of what was reserved (a transient: the line just judged). */
  free(bytes: number): void {
    const given = Math.min(bytes, this.held);
    this.held -= given;
    this.budget.give(given);
  }

  /** Gives back bytes the request dropped for good: garbage now, so the reclaimer hears of them too. */
  discard(bytes: number): void {
    const before = this.held;
    this.free(bytes);
    this.budget.released(before - this.held);
  }

  /** Idempotent: everything back. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.budget.released(this.held);
    this.held = 0;
  }
}

/**
 * A lease on `budget` for one request, or none without a budget. A budget already spent sheds the request at
 * once (503), before a byte of its body is read.
 */
export function budgetLease(budget: MemoryBudget | undefined): MemoryLease | undefined {
  if (budget === undefined) return undefined;
  if (budget.limit > 0 && budget.inUse >= budget.limit) throw new BudgetError('SIDECAR_ERR_OVERLOADED');
  return budget.lease();
}
