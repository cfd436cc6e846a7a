import type { BatcherObserver } from './bulk-batcher';

/** One observer that forwards every event to each of `observers` (metrics, pause control, logs). */
export function combineObservers(...observers: BatcherObserver[]): BatcherObserver {
  return {
    bulkStarted: (...a) => observers.forEach((o) => o.bulkStarted?.(...a)),
    bulkFinished: (...a) => observers.forEach((o) => o.bulkFinished?.(...a)),
    itemsRetried: (...a) => observers.forEach((o) => o.itemsRetried?.(...a)),
    retryReleased: (...a) => observers.forEach((o) => o.retryReleased?.(...a)),
    requestFailed: (...a) => observers.forEach((o) => o.requestFailed?.(...a)),
    requestSucceeded: () => observers.forEach((o) => o.requestSucceeded?.()),
    itemRejected: (...a) => observers.forEach((o) => o.itemRejected?.(...a)),
  };
}
