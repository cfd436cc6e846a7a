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
  /**
   * The drain's bound (server.shutdown_timeout plus the time to close connections): past it the process logs
   * what it abandons and exits 1, whatever the drain waits on (a Redis that is down never answers QUIT).
   */
  readonly deadlineMs: number;
  /** Exit code-producing hook for tests; defaults to process.exit. */
  readonly exit?: (code: number) => void;
  readonly signals?: readonly NodeJS.Signals[];
}

/**
 * What a drain may take past server.shutdown_timeout: closing connections and listeners, and a forwarder's bulk
 * already sent when its jobs were handed back (its answer is awaited, so a document is not written twice).
 */
export const closingMs = 10_000;

/** Signals this close together are one stop request: npm forwards SIGTERM to a child its process group got too. */
const sameRequestMs = 1000;

export interface Shutdown {
  /** Starts the drain as a signal would (e.g. the parent process died). */
  readonly begin: (reason: string) => void;
  /** Removes the signal handlers. */
  readonly remove: () => void;
}

/**
 * SIGTERM (or SIGINT) drains, bounded by deadlineMs; a second signal a second or more later exits at once with
 * status 130.
 */
export function installShutdown(options: ShutdownOptions): Shutdown {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  let drainingSince: number | undefined;
  const begin = (reason: string): void => {
    if (drainingSince !== undefined) {
      if (Date.now() - drainingSince < sameRequestMs) return;
      options.logger.warn({ reason }, 'second signal: exiting now without finishing the drain');
      exit(130);
      return;
    }
    drainingSince = Date.now();
    options.logger.info({ reason }, 'draining: finishing in-flight work (send the signal again to exit now)');
    const deadline = setTimeout(() => {
      options.logger.error(
        { deadlineMs: options.deadlineMs },
        'drain did not finish within server.shutdown_timeout: exiting without it (a job not yet acknowledged is redelivered)',
      );
      exit(1);
    }, options.deadlineMs);
    deadline.unref();
    options.drain().then(
      () => {
        clearTimeout(deadline);
        options.logger.info('drained, exiting');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(deadline);
        options.logger.error({ err }, 'drain failed');
        exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => begin(signal);
  for (const s of signals) process.on(s, onSignal);
  return {
    begin,
    remove: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/**
 * Calls `onOrphaned` once when this process's parent exits (it is then reparented, so its ppid changes): a
 * supervisor or shell that dies without signalling should not leave the stack running.
 */
export function watchParent(onOrphaned: () => void, intervalMs = 1000): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
