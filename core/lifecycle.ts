import type { Logger } from 'pino';

/** Every long-lived part of a process: started once, closed any number of times. */
export interface Component {
  start(): Promise<void>;
  /** Idempotent: a second call returns the first call's promise. */
  close(): Promise<void>;
}

/**
 * Wraps a close function so that it runs once; later calls get the same promise (BullMQ's convention).
 */
export function closeOnce(fn: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => {
    closing ??= fn();
    return closing;
  };
}

/**
 * Runs every cleanup even when one fails, then rethrows the first failure (an AggregateError when several).
 */
export async function closeAll(closers: ReadonlyArray<() => Promise<void>>): Promise<void> {
  const results = await Promise.allSettled(closers.map(async (close) => close()));
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, 'several components failed to close');
}

export interface ShutdownOptions {
  readonly logger: Logger;
  /** Called on the first SIGTERM/SIGINT; should drain and close everything. */
  readonly drain: () => Promise<void>;
  /** Exit code-producing hook for tests; defaults to process.exit. */
  readonly exit?: (code: number) => void;
  readonly signals?: readonly NodeJS.Signals[];
}

/**
 * SIGTERM (or SIGINT) drains; a second signal exits at once with status 130.
 * Returns a function that removes the handlers.
 */
export function installShutdown(options: ShutdownOptions): () => void {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let draining = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (draining) {
      options.logger.warn({ signal }, 'second signal: exiting now without finishing the drain');
      exit(130);
      return;
    }
    draining = true;
    options.logger.info({ signal }, 'draining: finishing in-flight work (send the signal again to exit now)');
    options.drain().then(
      () => {
        options.logger.info('drained, exiting');
        exit(0);
      },
      (err: unknown) => {
        options.logger.error({ err }, 'drain failed');
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}
