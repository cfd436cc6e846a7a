import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import { metricPrefix } from '../core/metrics';

/** The proxy's metrics. `result` labels are the catalogue's result ids (core/errors.ts), as APM Server does. */
export class ProxyMetrics {
  readonly intakeRequests: Counter<'status' | 'result'>;
  readonly events: Counter<'result'>;
  readonly queueBytes: Gauge<'partition'>;
  readonly enqueueSeconds: Histogram;
  readonly requestSeconds: Histogram<'status'>;
  readonly requestsInFlight: Gauge;

  constructor(readonly registry: Registry) {
    this.intakeRequests = new Counter({
      name: `${metricPrefix}intake_requests_total`,
      help: 'Intake requests (events in: intake/v2, RUM, OTLP) by status and result id; not root, agent config, passthrough or 404',
      labelNames: ['status', 'result'],
      registers: [registry],
    });
    this.events = new Counter({
      name: `${metricPrefix}intake_events_total`,
      help: 'Intake events by result: accepted, or the error result id that rejected them',
      labelNames: ['result'],
      registers: [registry],
    });
    this.queueBytes = new Gauge({
      name: `${metricPrefix}queue_redis_used_bytes`,
      help: 'Memory the Redis master serving the partition reports in use (INFO used_memory), compared to the bytes high-water mark',
      labelNames: ['partition'],
      // Every worker of server.workers reads the same Redis: their sum would count it once per worker.
      aggregator: 'max',
      registers: [registry],
    });
    this.enqueueSeconds = new Histogram({
      name: `${metricPrefix}enqueue_duration_seconds`,
      help: 'Time from Queue.add to Redis acknowledging the job (at the configured durability)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.requestSeconds = new Histogram({
      name: `${metricPrefix}request_duration_seconds`,
      help: 'Time from the request headers to the answer, by status (a 503 under backpressure should stay in the lowest buckets)',
      labelNames: ['status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.requestsInFlight = new Gauge({
      name: `${metricPrefix}requests_in_flight`,
      help: "Requests on the agents' listener whose headers were read and that are not answered yet (every route)",
      registers: [registry],
    });
  }

  /** Every request's latency; intake_requests_total only for an intake endpoint. */
  countRequest(status: number, result: string, seconds: number, intake = true): void {
    if (intake) this.intakeRequests.inc({ status: String(status), result });
    this.requestSeconds.observe({ status: String(status) }, seconds);
  }
}
