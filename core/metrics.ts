import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric apm-sidecar exports starts with this prefix. */
export const metricPrefix = 'apm_sidecar_';

/**
 * prom-client's gauges named `*_total`, which Prometheus reserves for counters (`promtool check metrics` fails on
 * them); each is the sum of its by-type gauge without the suffix (`sum(apm_sidecar_nodejs_active_handles)`).
 */
const gaugesNamedTotal = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** One registry per process, with Node's default process metrics under the same prefix. */
export function createRegistry(role: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ role });
  // The event-loop delay histogram samples once a second, not every 10 ms (prom-client's default), which alone
  // cost an idle process about 0.5% of a core.
  collectDefaultMetrics({ register: registry, prefix: metricPrefix, eventLoopMonitoringPrecision: 1000 });
  for (const name of gaugesNamedTotal) registry.removeSingleMetric(`${metricPrefix}${name}`);
  return registry;
}
