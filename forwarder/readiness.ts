import type { Readiness } from '../core/admin-server';
import type { DeliveryState } from './preconditions';

const unreadableAdvice =
  'jobs no forwarder could read are kept in the failed set: see `apm-sidecar dlq list`, fix the cause, then `dlq replay`';

const quarantinedAdvice =
  'jobs whose processing killed forwarders are set aside whole in the failed set: see `apm-sidecar dlq list`, fix the cause, then `dlq replay`';

/**
 * The forwarder's /readyz: ready once the Elasticsearch preconditions passed and while not draining. Unreadable
 * and quarantined jobs do not stop it, but need a human, so details name them next to the precondition's code and warnings.
 */
export function forwarderReadiness(state: DeliveryState, unreadableJobs: number, quarantinedJobs = 0): Readiness {
  const unreadable = {
    ...(unreadableJobs === 0 ? {} : { unreadable_jobs: unreadableJobs, unreadable: unreadableAdvice }),
    ...(quarantinedJobs === 0 ? {} : { quarantined_jobs: quarantinedJobs, quarantined: quarantinedAdvice }),
  };
  if (!state.ready) return { ready: false, reasons: [state.reason], details: { code: state.code, ...unreadable } };
  const warnings = state.warnings === undefined ? {} : { warnings: state.warnings };
  return { ready: true, reasons: [], details: { ...warnings, ...unreadable } };
}
