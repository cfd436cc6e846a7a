import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

import { redact, redactDeep } from './redact';

export type { Logger } from 'pino';

/** Paths pino censors wherever they appear in a log object: credentials never reach a log line. */
const redactedPaths: readonly string[] = [
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
    formatters: {
      level: (label) => ({ level: label }),
      // URL credentials and registered secrets (core/redact.ts) are masked in every value of every line.
      log: (object) => redactLogObject(object),
    },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg: unknown) => (typeof arg === 'string' ? redact(arg) : arg)) as Parameters<typeof method>,
        );
      },
    },
  };
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}

/** A copy of an Error, of the same class (pino's serializer names it by its constructor), with its text redacted. */
function redactError(err: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  for (const [key, value] of Object.entries(err))
    (copy as unknown as Record<string, unknown>)[key] = redactValue(value, depth + 1);
  Object.defineProperty(copy, 'message', { value: redact(err.message), enumerable: false, writable: true });
  if (err.stack !== undefined)
    Object.defineProperty(copy, 'stack', { value: redact(err.stack), enumerable: false, writable: true });
  if (err.cause !== undefined && depth < 4)
    Object.defineProperty(copy, 'cause', {
      value: redactValue(err.cause, depth + 1),
      enumerable: false,
      writable: true,
    });
  return copy;
}

function redactValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) return redactError(value, depth);
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 8) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) out[key] = redactValue(v, depth + 1);
    return out;
  }
  return redactDeep(value, depth);
}

function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return redactValue(object, 0) as Record<string, unknown>;
}
