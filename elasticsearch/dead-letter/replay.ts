import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { intakeJobOptions } from '../../queue/job-options';
import type { DeadLetterQueue, StoredEntry } from '../dead-letter';
import { replayJobName, replayJobVersion, type DeadLetterEntry, type ReplayJobData } from './entry';

export interface SelectOptions {
  /** Only entries dead-lettered for this reason; all when undefined. */
  readonly reason: string | undefined;
  readonly pageSize?: number;
  readonly onProgress?: (done: number) => void;
}

/**
 * Walks the entries dead-lettered before the walk started (entries a replay sends back to the DLQ land after the
 * cut-off, so a replay never chases its own tail), hands each matching page to `act`, which returns how many it
 * removed, and keeps its place although removed entries shift the positions.
 */
async function forEachMatchingPage(dlq: DeadLetterQueue, options: SelectOptions, act: (page: StoredEntry[]) => Promise<number>): Promise<number> {
  const cutoff = Date.now();
  const pageSize = options.pageSize ?? 500;
  let offset = 0;
  let done = 0;
  for (;;) {
    const page = await dlq.page(offset, pageSize);
    if (page.positions === 0) return done;
    const matching = page.entries.filter((s) => s.entry.deadLetteredAt <= cutoff && (options.reason === undefined || s.entry.reason === options.reason));
    const removed = matching.length > 0 ? await act(matching) : 0;
    done += removed;
    options.onProgress?.(done);
    offset += page.positions - removed;
    if (page.positions < pageSize || (page.entries.length > 0 && page.entries.every((s) => s.entry.deadLetteredAt > cutoff))) return done;
  }
}

/**
 * Puts matching entries back on the intake queue as replay jobs (one per page) and then removes them. The job is
 * added before the entries are removed: a crash in between replays them twice, which their unchanged `_id`s make
 * harmless, while the other order could lose them.
 */
export async function replayDeadLetters(dlq: DeadLetterQueue, queue: Queue, keepCompleted: number, options: SelectOptions): Promise<number> {
  return forEachMatchingPage(dlq, options, async (page) => {
    const data: ReplayJobData = { v: replayJobVersion, entries: page.map((s) => s.entry) };
    await queue.add(replayJobName, data, intakeJobOptions(`dlq-replay-${randomUUID()}`, keepCompleted));
    return dlq.remove(page);
  });
}

export async function purgeDeadLetters(dlq: DeadLetterQueue, options: SelectOptions): Promise<number> {
  return forEachMatchingPage(dlq, options, async (page) => dlq.remove(page));
}

export interface DeadLetterSummary {
  readonly total: number;
  readonly dropped: number;
  readonly reasons: ReadonlyArray<{ readonly reason: string; readonly count: number; readonly samples: readonly DeadLetterEntry[] }>;
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
  const reasons = [...byReason.entries()].map(([reason, g]) => ({ reason, count: g.count, samples: g.samples })).sort((a, b) => b.count - a.count);
  return { total, dropped: await dlq.droppedTotal(), reasons };
}
