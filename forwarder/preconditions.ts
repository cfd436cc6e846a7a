import { setTimeout as sleep } from 'node:timers/promises';

import type { Client } from '@elastic/elasticsearch';

import { describeForOperator, type SidecarError } from '../core/errors';
import type { Logger } from '../core/log';
import { classifyEsError } from '../elasticsearch/errors';
import { assertPrivileges, writerPrivileges } from '../elasticsearch/privileges';
import { writerRoleName } from '../elasticsearch/setup/roles';
import { type BackoffPolicy, fullJitterDelay } from './backoff';

/** Whether the forwarder may take jobs, or the failing precondition with its remediation (/readyz shows it). */
export type DeliveryState =
  | { readonly ready: true; readonly warnings?: readonly string[] }
  | { readonly ready: false; readonly code: string; readonly reason: string };

/**
 * One check of everything the forwarder needs from the cluster, in one request: `_has_privileges` answers only
 * when the cluster is reachable (TLS verified), is Elasticsearch (product header), accepts the credential, and
 * then tells which writer privileges are missing. Resolves, or throws a classified SidecarError.
 */
async function checkPreconditions(client: Client): Promise<void> {
  try {
    await assertPrivileges(client, writerPrivileges, writerRoleName);
  } catch (err) {
    throw classifyEsError(err, { credential: 'output.elasticsearch', action: "checking the writer's preconditions" });
  }
}

export interface WaitOptions {
  readonly backoff: BackoffPolicy;
  readonly signal: AbortSignal;
  readonly onState: (state: DeliveryState) => void;
  readonly check?: () => Promise<void>;
}

function logFailure(logger: Logger, err: SidecarError, attempt: number, delayMs: number): void {
  const fields = { code: err.code, attempt, retryInMs: delayMs };
  // Unreachable is usual while a cluster starts; a wrong credential or privilege needs a human.
  if (err.retryable) logger.warn(fields, `waiting for Elasticsearch: ${describeForOperator(err)}`);
  else logger.error(fields, `Elasticsearch precondition failed: ${describeForOperator(err)}`);
}

/**
 * APM Server's wait-ready: checks until the cluster passes, with exponential backoff and full jitter, while the
 * proxy keeps accepting into the queue. Logs each change of failure once (then at debug) so a long outage does
 * not flood the log. Resolves true when ready, false when aborted.
 */
export async function waitForPreconditions(client: Client, logger: Logger, options: WaitOptions): Promise<boolean> {
  const check = options.check ?? (() => checkPreconditions(client));
  let lastMessage = '';
  for (let attempt = 1; !options.signal.aborted; attempt++) {
    try {
      await check();
      options.onState({ ready: true });
      if (attempt > 1) logger.info({ attempt }, 'Elasticsearch preconditions met');
      return true;
    } catch (thrown) {
      const err = classifyEsError(thrown, { credential: 'output.elasticsearch' });
      options.onState({ ready: false, code: err.code, reason: describeForOperator(err) });
      const delay = Math.max(fullJitterDelay(options.backoff, attempt), Math.min(options.backoff.initMs, 100));
      if (err.message !== lastMessage) logFailure(logger, err, attempt, delay);
      else logger.debug({ code: err.code, attempt }, 'Elasticsearch preconditions still failing');
      lastMessage = err.message;
      // An abort ends the wait early (the loop then returns false), not with a throw.
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
  return false;
}
