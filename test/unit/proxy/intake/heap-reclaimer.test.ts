import { HeapReclaimer } from '../../../../proxy/intake/heap-reclaimer';
import { MemoryBudget } from '../../../../proxy/intake/memory-budget';

/** The collections a reclaimer started, once the turn in which they were scheduled has passed. */
async function collectionsAfter(run: (reclaimer: HeapReclaimer) => void, buffersInUse = 1e9): Promise<number> {
  let collections = 0;
  const reclaimer = new HeapReclaimer(
    1000,
    60_000,
    () => collections++,
    () => buffersInUse,
  );
  run(reclaimer);
  await new Promise((resolve) => setImmediate(resolve));
  return collections;
}

describe('HeapReclaimer', () => {
  it('starts a collection once finished requests gave back the threshold, not before', async () => {
    expect(await collectionsAfter((r) => r.returnedBytes(999))).toBe(0);
    expect(await collectionsAfter((r) => [600, 400].forEach((b) => r.returnedBytes(b)))).toBe(1);
  });

  it('collects only when the Buffers in use exceed what the budget still holds by the threshold (garbage is there)', async () => {
    expect(await collectionsAfter((r) => r.returnedBytes(1000, 5000), 5999)).toBe(0);
    expect(await collectionsAfter((r) => r.returnedBytes(1000, 5000), 6000)).toBe(1);
  });

  it('looks again only after another threshold came back when it found no garbage', async () => {
    let collections = 0;
    let buffers = 0;
    const reclaimer = new HeapReclaimer(
      1000,
      0,
      () => collections++,
      () => buffers,
    );
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    reclaimer.returnedBytes(1000);
    await settle();
    buffers = 5000;
    reclaimer.returnedBytes(500);
    await settle();
    expect(collections).toBe(0);
    reclaimer.returnedBytes(500);
    await settle();
    expect(collections).toBe(1);
  });

  it('starts at most one per interval, however much comes back', async () => {
    let collections = 0;
    const reclaimer = new HeapReclaimer(
      1000,
      60_000,
      () => collections++,
      () => 1e9,
    );
    for (let i = 0; i < 50; i++) {
      reclaimer.returnedBytes(5000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(collections).toBe(1);
  });

  it("collects at once when asked (the proxy does once it is up), and that counts as the interval's collection", async () => {
    let collections = 0;
    const reclaimer = new HeapReclaimer(
      1000,
      60_000,
      () => collections++,
      () => 1e9,
    );
    reclaimer.collectNow();
    expect(collections).toBe(1);
    reclaimer.returnedBytes(5000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(collections).toBe(1);
  });

  it('is told what each released lease held (its received bytes and the job), not the transient lines it freed', () => {
    const returned: number[] = [];
    const reclaimer = new HeapReclaimer(1, 0, () => undefined);
    reclaimer.returnedBytes = (bytes: number, heldNow = 0) => void returned.push(bytes, heldNow);
    const budget = new MemoryBudget(10_000, reclaimer);
    const lease = budget.lease();
    lease.reserve(3000);
    lease.reserve(500);
    lease.free(500);
    const other = budget.lease();
    other.reserve(200);
    lease.release();
    lease.release();
    expect(returned).toEqual([3000, 200]);
    expect(budget.inUse).toBe(200);
  });
});

describe('MemoryLease.assertQueueable', () => {
  it('refuses as too large a compressed body that, held and queued, could never fit in the budget', () => {
    const lease = new MemoryBudget(7500).lease();
    expect(() => lease.assertQueueable(1000)).not.toThrow();
    let refusal: unknown;
    try {
      lease.assertQueueable(1001);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ code: 'SIDECAR_ERR_REQUEST_TOO_LARGE' });
    expect(() => new MemoryBudget(0).lease().assertQueueable(1e12)).not.toThrow();
  });
});
