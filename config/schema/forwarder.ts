import type { Schema } from 'convict';

/** forwarder: how many jobs a forwarder holds. */
export interface ForwarderConfig {
  concurrency: number;
  max_inflight_bytes: number;
  stuck_worker_timeout: string;
}

export const forwarderSchema: Schema<ForwarderConfig> = {
  concurrency: {
    doc: 'Jobs (intake requests) a forwarder process works on at once; their documents share bulk requests.',
    format: 'nat',
    default: 32,
  },
  max_inflight_bytes: {
    doc: 'Decompressed intake bytes of the jobs a forwarder process works on at once, in bytes (memory grows several times this). An intake body is read in pieces and charged what it holds at most (6 x output.elasticsearch.flush_bytes + 512 KiB); OTLP and minified RUM jobs are charged their whole size. Jobs wait in order for room; a job larger than this runs alone. 0: bounded by forwarder.concurrency only.',
    format: 'nat',
    default: 32 * 1024 * 1024,
  },
  stuck_worker_timeout: {
    doc: "Liveness of each partition's worker: one that has room for jobs, is not paused, and has taken none for this long while jobs wait in its partition is closed (what it holds goes back to the queue) and made again, logged at warn and counted in apm_sidecar_worker_restarts_total. It catches a blocking connection that did not recover after a failover. 0s: never.",
    format: 'duration',
    default: '30s',
  },
};

/** data_streams: where documents are indexed. */
export interface DataStreamsConfig {
  namespace: string;
}

export const dataStreamsSchema: Schema<DataStreamsConfig> = {
  namespace: {
    doc: 'Namespace of the APM data streams (traces-apm-<namespace> ...).',
    format: String,
    default: 'default',
    env: 'APM_SIDECAR_NAMESPACE',
  },
};
