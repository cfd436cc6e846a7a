import type { JobsOptions } from 'bullmq';

/**
 * Options of every intake job. The forwarder owns retries of individual documents, so a job is attempted
 * until it completes; stalled jobs (a forwarder died) are handed to another worker by BullMQ's lock expiry.
 */
export function intakeJobOptions(requestId: string, keepCompleted: number): JobsOptions {
  return {
    jobId: requestId,
    // BullMQ keeps every completed job forever by default; Redis would fill up.
    removeOnComplete: { count: keepCompleted },
    removeOnFail: false,
    attempts: 1_000_000,
    // A job only fails when its processor throws (e.g. Redis went away while it wrote the dead-letter queue):
    // retry every ~5 s for as long as it takes. Exponential backoff would grow without a cap to days.
    backoff: { type: 'fixed', delay: 5000, jitter: 0.5 },
  };
}

/** Worker settings both sides agree on: a job whose lock expires is redelivered, never failed for stalling. */
export const workerLockDurationMs = 30_000;
export const workerMaxStalledCount = 1_000_000;
