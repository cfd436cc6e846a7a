import { Job, type Worker } from 'bullmq';

import type { Logger } from '../core/log';
import type { QueueConnection } from '../queue/connections';

/**
 * When Redis dies after running this worker's "take the next job" (or "done, and the next one") but before its
 * answer arrives, the job is in `active`, locked with this worker's own token (`<worker id>:<n>`), and in no
 * processor's hands: BullMQ would hand it on only once the 30 s lock lapses and the stalled check runs (up to
 * ~40 s). After a reconnection, such jobs are found by their lock's prefix and moved back to waiting at once.
 *
 * A job counts as orphaned only if it is locked by this worker, not in hand, and still so with the same token
 * `confirmMs` later: BullMQ hands a fetched job to the processor within the same turn of the event loop, so a
 * job fetched a moment ago is in hand by then. Even if that judgement were wrong, moving a job back to waiting
 * (atomic, and only while the lock still holds that token) never loses it: at worst it runs twice, which the
 * deterministic `_id`s make a 409.
 */
export async function reclaimOwnOrphans<D, R>(
  worker: Worker<D, R>,
  client: QueueConnection,
  inHand: (jobId: string) => boolean,
  logger: Logger,
  confirmMs: number,
): Promise<number> {
  const prefix = `${worker.id}:`;
  const look = async (): Promise<Map<string, string>> => {
    const ids = (await client.lrange(worker.toKey('active'), 0, -1)).filter((id) => !inHand(id));
    const found = new Map<string, string>();
    if (ids.length === 0) return found;
    const pipeline = client.pipeline();
    for (const id of ids) pipeline.get(`${worker.toKey(id)}:lock`);
    const replies = (await pipeline.exec()) ?? [];
    ids.forEach((id, i) => {
      const token = replies[i]?.[1];
      if (typeof token === 'string' && token.startsWith(prefix)) found.set(id, token);
    });
    return found;
  };
  const first = await look();
  if (first.size === 0) return 0;
  await new Promise((resolve) => setTimeout(resolve, confirmMs).unref());
  const second = await look();
  let moved = 0;
  for (const [id, token] of first) {
    if (second.get(id) !== token || inHand(id)) continue;
    const job = await Job.fromId(worker, id);
    if (job === undefined) continue;
    try {
      await job.moveToWait(token);
      moved++;
    } catch (err) {
      // The lock changed hands or the job finished meanwhile: nothing to reclaim.
      logger.debug({ err, jobId: id }, 'orphaned job not reclaimed');
    }
  }
  if (moved > 0)
    logger.info(
      { jobs: moved },
      'moved jobs back to waiting that this forwarder had taken when Redis went away (their answer was lost), instead of waiting for their locks to lapse',
    );
  return moved;
}
