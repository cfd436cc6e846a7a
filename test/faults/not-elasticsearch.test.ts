import { FaultHarness } from './support/harness';

/**
 * A load balancer in front of the cluster answers during a rollout with its own HTML 404 or 502 (no
 * `x-elastic-product`): transient, retried, never dead-lettered.
 */
describe('fault: HTML answers from a load balancer', () => {
  let harness: FaultHarness;
  beforeAll(async () => {
    harness = await FaultHarness.start();
  });
  afterAll(() => harness.close());
  afterEach(() => harness.stopRun());

  it.each([404, 502])('retries bulks answered with an HTML %i and indexes every event once', async (status) => {
    const figures = await harness.run({
      name: `html-${status}`,
      fault: `five bulks answered with a load balancer's HTML ${status}`,
      jobs: 200,
      eventsPerJob: 20,
      faultMs: 3000,
      faults: { htmlAnswer: { status, times: 5 } },
    });
    expect(figures.faultsApplied['htmlAnswer']).toBe(5);
    expect({ lost: figures.lost, doubled: figures.doubled, deadLettered: figures.deadLettered }).toEqual({
      lost: 0,
      doubled: 0,
      deadLettered: 0,
    });
    harness.logs.assertNoUnexpectedErrors();
  });
});
