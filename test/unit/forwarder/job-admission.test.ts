import { declaredJobBytes, JobAdmission } from '../../../forwarder/job-admission';

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('JobAdmission (forwarder.max_inflight_bytes)', () => {
  it('admits jobs while their bytes fit and holds the next until room is given back', async () => {
    const admission = new JobAdmission(100);
    const releaseA = await admission.acquire(60);
    const b = admission.acquire(60);
    expect(await settled(b)).toBe(false);
    expect(admission.inUse).toBe(60);
    releaseA();
    const releaseB = await b;
    expect(admission.inUse).toBe(60);
    releaseB();
    releaseB();
    expect(admission.inUse).toBe(0);
  });

  it('serves in order: a big job waiting is not overtaken by smaller ones that would fit', async () => {
    const admission = new JobAdmission(100);
    const releaseA = await admission.acquire(50);
    const big = admission.acquire(90);
    const small = admission.acquire(10);
    expect(await settled(big)).toBe(false);
    expect(await settled(small)).toBe(false);
    releaseA();
    expect(await settled(big)).toBe(true);
    expect(await settled(small)).toBe(true);
    expect(admission.inUse).toBe(100);
  });

  it('bounds the jobs admitted at once by maxJobs, whatever their bytes (one bound for every partition)', async () => {
    const admission = new JobAdmission(0, 2);
    const releaseA = await admission.acquire(1);
    const releaseB = await admission.acquire(1);
    const c = admission.acquire(0);
    expect(await settled(c)).toBe(false);
    releaseA();
    const releaseC = await c;
    expect(await settled(admission.acquire(0))).toBe(false);
    releaseB();
    releaseC();
  });

  it('runs a job larger than the whole budget alone instead of never', async () => {
    const admission = new JobAdmission(100);
    const releaseHuge = await admission.acquire(10_000);
    expect(admission.inUse).toBe(100);
    const next = admission.acquire(1);
    expect(await settled(next)).toBe(false);
    releaseHuge();
    expect(await settled(next)).toBe(true);
  });

  it('limit 0 admits everything', async () => {
    const admission = new JobAdmission(0);
    await Promise.all([admission.acquire(1e9), admission.acquire(1e9)]);
    expect(admission.inUse).toBe(0);
  });

  it('reads the declared decompressed size of a job, 0 when it has none', () => {
    expect(declaredJobBytes({ rawBytes: 1234 })).toBe(1234);
    expect(declaredJobBytes({ entries: [] })).toBe(0);
    expect(declaredJobBytes({ rawBytes: 'x' })).toBe(0);
    expect(declaredJobBytes(null)).toBe(0);
  });
});

describe('JobAdmission: a job admitted alone', () => {
  it.each([0, 100])(
    'waits until nothing is admitted, and holds every later job back until it is done (limit %i)',
    async (limit) => {
      const admission = new JobAdmission(limit);
      const releaseA = await admission.acquire(10);
      const alone = admission.acquire(10, true);
      const later = admission.acquire(0);
      expect(await settled(alone)).toBe(false);
      releaseA();
      const releaseAlone = await alone;
      expect(await settled(later)).toBe(false);
      releaseAlone();
      const releaseLater = await later;
      releaseLater();
      expect(admission.inUse).toBe(0);
    },
  );
});
