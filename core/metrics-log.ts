import ms from 'ms';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface MetricsLogOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  /** How often to log; 0 turns the line off (log.metrics_period). */
  readonly periodMs: number;
  /** The counters worth a line, by their full names (e.g. apm_sidecar_intake_events_total). */
  readonly counters: readonly string[];
}

/** What one counter gained in a period, by label set ("result=accepted"), zero entries left out. */
type CounterGains = Record<string, Record<string, number>>;

/**
 * One info line per period while data flows, like APM Server's "Non-zero metrics in the last 30s": what each
 * listed counter gained, by label set. A quiet period logs nothing, so an idle process stays quiet.
 */
export function startMetricsLog(options: MetricsLogOptions): { close(): void } {
  if (options.periodMs <= 0) return { close: () => undefined };
  let last = new Map<string, number>();
  let reading = false;
  const period = ms(options.periodMs);
  const tick = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      const current = await readCounters(options.registry, options.counters);
      const gains = gainsSince(last, current);
      last = current;
      const summary = summarise(gains);
      if (summary !== '')
        options.logger.info({ metrics: gains, period }, `non-zero metrics in the last ${period}: ${summary}`);
    } finally {
      reading = false;
    }
  };
  // The first reading is the baseline: what was counted before the log started is not reported as a gain.
  void readCounters(options.registry, options.counters).then((baseline) => {
    last = baseline;
  });
  const timer = setInterval(() => void tick(), options.periodMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}

async function readCounters(registry: Registry, names: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of names) {
    const metric = registry.getSingleMetric(name);
    if (metric === undefined) continue;
    const { values } = await metric.get();
    for (const { labels, value } of values) {
      const labelText = Object.entries(labels)
        .filter(([key]) => key !== 'role')
        .map(([key, v]) => `${key}=${String(v)}`)
        .join(',');
      out.set(`${name}\u0000${labelText}`, value);
    }
  }
  return out;
}

function gainsSince(before: Map<string, number>, now: Map<string, number>): CounterGains {
  const gains: CounterGains = {};
  for (const [key, value] of now) {
    const gained = value - (before.get(key) ?? 0);
    if (gained <= 0) continue;
    const [name = key, labels = ''] = key.split('\u0000');
    const short = name.replace(/^apm_sidecar_/, '');
    (gains[short] ??= {})[labels === '' ? 'all' : labels] = gained;
  }
  return gains;
}

function summarise(gains: CounterGains): string {
  return Object.entries(gains)
    .map(([name, byLabels]) => {
      const total = Object.values(byLabels).reduce((sum, v) => sum + v, 0);
      const parts = Object.entries(byLabels).map(([labels, v]) => `${labels} ${v}`);
      return parts.length === 1 && parts[0]?.startsWith('all ')
        ? `${name} ${total}`
        : `${name} ${total} (${parts.join(', ')})`;
    })
    .join('; ');
}
