/**
 * forwarder.max_inflight_bytes: the jobs a forwarder works on at once are admitted by their decompressed size,
 * not only by count (forwarder.concurrency), so its memory follows what it holds rather than what the queue hands
 * it. Twelve near-limit requests taken at once by 32 job slots grew a forwarder past 4 GB and killed it on every
 * restart. Admission is first come, first served: a big job waits for room instead of being overtaken forever by
 * small ones, and a job larger than the whole budget runs alone. One admission serves every partition's worker of
 * a process, with `maxJobs` (forwarder.concurrency) as the bound on jobs worked on at once: N partitions do not
 * multiply what a forwarder holds, nor what it sends to Elasticsearch.
 */
export class JobAdmission {
  private held = 0;
  /** Jobs admitted now (also those of 0 bytes). */
  private count = 0;
  private aloneHeld = false;
  private readonly waiting: { readonly bytes: number; readonly alone: boolean; readonly grant: () => void }[] = [];

  /** `limit` 0: no bound on bytes; `maxJobs` 0: none on the count. */
  constructor(
    readonly limit: number,
    readonly maxJobs = 0,
  ) {}

  /**
   * Resolves once `bytes` fit; the returned function gives them back (once). `alone`: once nothing else is
   * admitted, and nothing else is admitted until it is given back (a job suspected of killing a forwarder).
   */
  async acquire(bytes: number, alone = false): Promise<() => void> {
    const wanted = this.limit > 0 ? Math.min(Math.max(bytes, 0), this.limit) : 0;
    if (this.waiting.length === 0 && this.fits(wanted, alone)) this.take(wanted, alone);
    else await new Promise<void>((grant) => this.waiting.push({ bytes: wanted, alone, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= wanted;
      this.count--;
      if (alone) this.aloneHeld = false;
      this.admitWaiting();
    };
  }

  /** Bytes admitted now. */
  get inUse(): number {
    return this.held;
  }

  private take(bytes: number, alone: boolean): void {
    this.held += bytes;
    this.count++;
    if (alone) this.aloneHeld = true;
  }

  private fits(bytes: number, alone: boolean): boolean {
    if (this.aloneHeld) return false;
    if (alone) return this.count === 0;
    if (this.maxJobs > 0 && this.count >= this.maxJobs) return false;
    return this.limit === 0 || this.held + bytes <= this.limit;
  }

  private admitWaiting(): void {
    for (let next = this.waiting[0]; next !== undefined && this.fits(next.bytes, next.alone); next = this.waiting[0]) {
      this.waiting.shift();
      this.take(next.bytes, next.alone);
      next.grant();
    }
  }
}

/** The decompressed size an intake job declares; 0 for jobs without one (replay pages are bounded by count). */
export function declaredJobBytes(data: unknown): number {
  if (typeof data !== 'object' || data === null || !('rawBytes' in data)) return 0;
  const { rawBytes } = data;
  return typeof rawBytes === 'number' && Number.isFinite(rawBytes) ? rawBytes : 0;
}

/**
 * What a job is charged against forwarder.max_inflight_bytes: its decompressed size, but at most `windowBytes`
 * for an intake body that is read as a stream (it never holds more than its pieces in hand). OTLP and minified
 * RUM jobs are transformed whole, so they are charged whole.
 */
export function admittedJobBytes(data: unknown, windowBytes: number): number {
  const declared = declaredJobBytes(data);
  if (typeof data !== 'object' || data === null || 'otlp' in data) return declared;
  const rum = 'rum' in data ? data.rum : undefined;
  const minified = typeof rum === 'object' && rum !== null && 'version' in rum && rum.version === 'v3';
  return minified ? declared : Math.min(declared, windowBytes);
}
