import type { Schema } from 'convict';

/** path: where a process keeps its files. */
export interface PathConfig {
  data: string;
}

export const pathSchema: Schema<PathConfig> = {
  data: {
    doc: 'Data directory: `start` keeps its redis-server data, generated CA, certificate and token here, and the ndjson output.',
    format: String,
    default: './data',
    env: 'APM_SIDECAR_DATA',
  },
};

/** log: what a process logs. */
export interface LogConfig {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  format: 'auto' | 'json' | 'pretty';
  metrics_period: string;
}

export const logSchema: Schema<LogConfig> = {
  level: {
    doc: 'Log level: fatal, error, warn, info, debug, trace, silent.',
    format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    env: 'APM_SIDECAR_LOG_LEVEL',
  },
  format: {
    doc: 'Log line format. json: one ECS JSON object a line (Elastic Common Schema, as APM Server logs; what a log shipper wants). pretty: readable lines for a person. auto: pretty when standard output is a terminal, json otherwise.',
    format: ['auto', 'json', 'pretty'],
    default: 'auto',
    env: 'APM_SIDECAR_LOG_FORMAT',
  },
  metrics_period: {
    doc: 'While data flows, one info line this often with what the counters gained (requests, events, documents written), like APM Server\'s "Non-zero metrics in the last 30s". A quiet period logs nothing. 0s turns it off.',
    format: 'duration',
    default: '30s',
    env: 'APM_SIDECAR_LOG_METRICS_PERIOD',
  },
};
