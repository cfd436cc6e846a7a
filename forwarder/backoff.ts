/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): the delay is
 * uniform in [0, min(max, init * 2^(attempt-1))]. Full jitter spreads the retries of a bulk's failed items and of
 * many forwarders so they do not hit a recovering cluster in lockstep.
 */
export interface BackoffPolicy {
  readonly initMs: number;
  readonly maxMs: number;
}

/** The ceiling of the delay before retry number `attempt` (1-based). */
export function backoffCeiling(policy: BackoffPolicy, attempt: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(policy.maxMs, policy.initMs * 2 ** exponent);
}

/** The delay before retry number `attempt`; `random` returns [0, 1) and is injectable for tests. */
export function fullJitterDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeiling(policy, attempt));
}
