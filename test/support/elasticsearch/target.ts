import type { EsTarget } from '../es-target';

export function realNodeRunnable(): boolean {
  return false;
}

/** The integ-test-zip node shared by this jest run (filled in by node.ts); undefined when it cannot run here. */
export function startRealNodeTarget(): Promise<EsTarget | undefined> {
  return Promise.resolve(undefined);
}
