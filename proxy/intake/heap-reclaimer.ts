import v8 from 'node:v8';
import vm from 'node:vm';

/**
 * HeapReclaimer: collects the request bytes the memory budget gave back, soon after. V8 frees a Buffer's memory
 * only when a collection finds its object dead, and little JavaScript allocation (a body skipped or refused
 * chunk by chunk) means few young-generation collections, while a full one starts for Buffers only once their
 * memory grew by about 64 MB since the last: so besides the bytes server.max_inflight_bytes bounds, up to twice
 * as many dead ones stayed resident, and the process's peak RSS was budget + garbage (measured, adversarial bench:
 * 53 MB of dead Buffers at the peak with a 32 MB budget). Once the budget's leases have given back
 * `thresholdBytes` since the last look (the proxy: a quarter of the budget; with half, 15 MB of shed requests'
 * Buffers were dead at the gzip peak before it fired), it looks at the Buffer memory in use: when it exceeds what
 * the budget holds by `thresholdBytes` or more, an incremental (non-blocking) major collection is started, at most
 * once per `minIntervalMs`.
 *
 * Looking first keeps it to garbage that is there. Agent traffic's request buffers die in the young-generation
 * collections its JSON parsing causes. Collecting for them anyway cost ~45% more proxy CPU per event, as a forced
 * major collection a second throws away what V8's own heuristics keep (measured, scripts/proxy-cpu.ts, 2 runs of
 * 4 alternating rounds: 6.5 and 7.5 CPU s per 100k events against 4.4 and 5.1), for a peak RSS of 90 MiB
 * instead of 105 under full-speed agent traffic.
 */
export class HeapReclaimer {
  private returned = 0;
  private held = 0;
  private lastAt = 0;
  private scheduled = false;

  /** `buffersInUse`: the bytes of every live and not yet collected Buffer (Node's arrayBuffers). */
  constructor(
    private readonly thresholdBytes: number,
    private readonly minIntervalMs = 1000,
    private readonly collect: (() => void) | null = incrementalCollection(),
    private readonly buffersInUse = (): number => process.memoryUsage().arrayBuffers,
  ) {}

  /**
   * Collects now. Called once the proxy is up: loading its modules and compiling the intake schemas leave about
   * 15 MB of dead heap pages that an idle or lightly loaded proxy allocates too little to ever collect, so they
   * stayed resident (measured: idle RSS 100 MB before, 85 after).
   */
  collectNow(): void {
    this.returned = 0;
    this.lastAt = Date.now();
    this.collect?.();
  }

  /** `bytes` of request memory became garbage (a lease gave them back); the budget holds `heldNow` still. */
  returnedBytes(bytes: number, heldNow = 0): void {
    if (this.collect === null || this.thresholdBytes <= 0) return;
    this.returned += bytes;
    this.held = heldNow;
    if (this.returned < this.thresholdBytes || this.scheduled) return;
    if (Date.now() - this.lastAt < this.minIntervalMs) return;
    this.scheduled = true;
    // After the current request's answer is written: its own buffers are dead by then.
    setImmediate(() => {
      this.scheduled = false;
      this.returned = 0;
      if (this.buffersInUse() - this.held >= this.thresholdBytes) this.collectNow();
    });
  }
}

/**
 * V8's gc() with { type: 'major', execution: 'async' }: marks incrementally instead of pausing the loop. Node
 * exposes it only with --expose-gc, which V8 lets a running process set for contexts created afterwards.
 */
function incrementalCollection(): (() => void) | null {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = vm.runInNewContext('gc');
  if (typeof gc !== 'function') return null;
  return () => void Reflect.apply(gc, undefined, [{ type: 'major', execution: 'async' }]);
}
