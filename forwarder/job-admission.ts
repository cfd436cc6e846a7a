/**
 * forwarder.max_inflight_bytes: the jobs a forwarder works on at once are admitted by their decompressed size,
 * not only by count (forwarder.concurrency), so its memory follows what it holds rather than what the queue hands
 * it. Twelve near-limit requests taken at once by 32 job slots grew a forwarder past 4 GB and killed it on every
 * restart. Admission is first come, first served: a big job waits for room instead of being overtaken forever by
 * small ones, and a job larger than the whole budget runs alone.
 */
export class JobAdmission {
  private held = 0;
  private readonly waiting: { readonly bytes: number; readonly grant: () => void }[] = [];

  /** `limit` 0: no bound (count only). */
  constructor(readonly limit: number) {}

  /** Resolves once `bytes` fit; the returned function gives them back (once). */
  async acquire(bytes: number): Promise<() => void> {
    const wanted = this.limit > 0 ? Math.min(Math.max(bytes, 0), this.limit) : 0;
    if (this.waiting.length === 0 && this.fits(wanted)) this.held += wanted;
    else await new Promise<void>((grant) => this.waiting.push({ bytes: wanted, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= wanted;
      this.admitWaiting();
    };
  }

  /** Bytes admitted now. */
  get inUse(): number {
    return this.held;
  }

  private fits(bytes: number): boolean {
    return this.limit === 0 || this.held + bytes <= this.limit;
  }

  private admitWaiting(): void {
    for (let next = this.waiting[0]; next !== undefined && this.fits(next.bytes); next = this.waiting[0]) {
      this.waiting.shift();
      this.held += next.bytes;
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
