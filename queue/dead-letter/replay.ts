import { randomUUID } from 'node:crypto';

import type { Queue } from 'bullmq';

import type { DeadLetterQueue, StoredEntry } from '../dead-letter';
import { intakeJobOptions } from '../job-options';
import { type DeadLetterEntry, type ReplayJobData, replayJobName, replayJobVersion } from './entry';

export interface SelectOptions {
  /** Only entries dead-lettered for this reason; all when undefined. */
  readonly reason: string | undefined;
  readonly pageSize?: number;
  readonly onProgress?: (done: number) => void;
}

/**
 * Walks the entries dead-lettered before the walk started (entries a replay sends back to the DLQ land after the
 * cut-off, so a replay never chases its own tail), claiming each page of matching entries out of the queue in one
 * atomic step and handing it to `act`. Two runs at once therefore share the entries between them, each exactly
 * once, and neither skips any. If `act` throws, the page goes back into the queue. A run that died holding a page
 * leaves a claim that the next run puts back once it is 10 minutes old.
 */
async function forEachMatchingPage(
  dlq: DeadLetterQueue,
  options: SelectOptions,
  act: (page: StoredEntry[]) => Promise<void>,
  dropCorrupt = false,
): Promise<number> {
  await dlq.restoreStaleClaims();
  const cutoff = Date.now();
  const pageSize = options.pageSize ?? 500;
  const claimId = randomUUID();
  let skip = 0;
  let done = 0;
  for (;;) {
    const page = await dlq.claim(claimId, { cutoff, reason: options.reason, skip, count: pageSize, dropCorrupt });
    if (page.entries.length > 0) {
      try {
        await act(page.entries);
      } catch (err) {
        await dlq.unclaim(claimId);
        throw err;
      }
      await dlq.release(claimId);
      done += page.entries.length;
      options.onProgress?.(done);
    }
    skip += page.skipped;
    if (page.scanned < pageSize) return done;
  }
}

/**
 * Puts matching entries back on the intake queue as replay jobs (one per page). The job is added before the claim
 * is released: a crash in between replays them twice, which their unchanged `_id`s make harmless, while the other
 * order could lose them.
 */
export async function replayDeadLetters(
  dlq: DeadLetterQueue,
  queue: Queue,
  keepCompleted: number,
  options: SelectOptions,
): Promise<number> {
  return forEachMatchingPage(dlq, options, async (page) => {
    const data: ReplayJobData = { v: replayJobVersion, entries: page.map((s) => s.entry) };
    await queue.add(replayJobName, data, intakeJobOptions(`dlq-replay-${randomUUID()}`, keepCompleted));
  });
}

export async function purgeDeadLetters(dlq: DeadLetterQueue, options: SelectOptions): Promise<number> {
  return forEachMatchingPage(dlq, options, () => Promise.resolve(), true);
}

export interface DeadLetterSummary {
  readonly total: number;
  readonly dropped: number;
  readonly reasons: ReadonlyArray<{
    readonly reason: string;
    readonly count: number;
    readonly samples: readonly DeadLetterEntry[];
  }>;
}

/** Counts by reason, most frequent first, with up to `samples` entries each (the newest). */
export async function summarizeDeadLetters(dlq: DeadLetterQueue, samples: number): Promise<DeadLetterSummary> {
  const byReason = new Map<string, { count: number; samples: DeadLetterEntry[] }>();
  let total = 0;
  for (let offset = 0; ; offset += 500) {
    const page = await dlq.page(offset, 500);
    if (page.positions === 0) break;
    for (const { entry } of page.entries) {
      total++;
      const group = byReason.get(entry.reason) ?? { count: 0, samples: [] };
      group.count++;
      group.samples.push(entry);
      if (group.samples.length > samples) group.samples.shift();
      byReason.set(entry.reason, group);
    }
    if (page.positions < 500) break;
  }
  const reasons = [...byReason.entries()]
    .map(([reason, g]) => ({ reason, count: g.count, samples: g.samples }))
    .sort((a, b) => b.count - a.count);
  return { total, dropped: await dlq.droppedTotal(), reasons };
}
