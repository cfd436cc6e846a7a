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
}

export const logSchema: Schema<LogConfig> = {
  level: {
    doc: 'Log level: fatal, error, warn, info, debug, trace, silent.',
    format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    default: 'info',
    env: 'APM_SIDECAR_LOG_LEVEL',
  },
};
