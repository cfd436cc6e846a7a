import { Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric apm-sidecar exports starts with this prefix. */
export const metricPrefix = 'apm_sidecar_';

/** One registry per process, with Node's default process metrics under the same prefix. */
export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry, prefix: metricPrefix });
  return registry;
}
