import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear in a log object: credentials never reach a log line. */
export const redactedPaths: readonly string[] = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'password',
  '*.password',
  'api_key',
  '*.api_key',
  'secret_token',
  '*.secret_token',
  'secret_tokens',
  '*.secret_tokens',
  'key_passphrase',
  '*.key_passphrase',
  '*.*.password',
  '*.*.api_key',
  '*.*.secret_tokens',
  '*.*.key_passphrase',
];

export interface LogOptions {
  readonly level: string;
  /** The process role, e.g. "proxy", "forwarder"; set as `name` on every line. */
  readonly name: string;
  /** Where lines go; stdout when absent. Tests pass a sink to assert on log objects. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LogOptions): Logger {
  const pinoOptions: LoggerOptions = {
    name: options.name,
    level: options.level,
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}
