import { ecsFormat } from '@elastic/ecs-pino-format';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

import { SidecarError } from './errors';
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
  /**
   * json: one ECS JSON object a line (what a log shipper wants); pretty: readable lines for a person; auto
   * (log.format's default): pretty when the lines go to a terminal, json otherwise.
   */
  readonly format?: LogFormat;
}

type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * A pino logger writing ECS JSON (`@timestamp`, `log.level`, `message`, `log.logger`, `error.*`), as APM Server's
 * own logs are, with every credential masked; on a terminal, readable lines instead.
 */
export function createLogger(options: LogOptions): Logger {
  const ecs = ecsFormat({ apmIntegration: false, convertErr: true });
  const ecsLog = ecs.formatters?.log;
  if (ecsLog === undefined)
    throw new SidecarError('SIDECAR_ERR_INTERNAL', '@elastic/ecs-pino-format returned no log formatter');
  const pinoOptions: LoggerOptions = {
    ...ecs,
    name: options.name,
    level: options.level,
    redact: { paths: [...redactedPaths], censor: '[redacted]' },
    formatters: {
      ...ecs.formatters,
      // URL credentials and registered secrets (core/redact.ts) are masked in every value of every line;
      // ECS's error.* keeps type, message and stack, so the error's stable code is added as error.code.
      log: (object) => withErrorCode(ecsLog(redactLogObject(object)), object.err),
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
  const format = options.format ?? 'auto';
  // auto looks at stdout only: a destination given by the caller (a test's sink, setup's stderr) gets JSON.
  const pretty =
    format === 'pretty' || (format === 'auto' && options.destination === undefined && process.stdout.isTTY);
  if (pretty) return pino(pinoOptions, prettyLines(options.destination));
  return options.destination === undefined ? pino(pinoOptions) : pino(pinoOptions, options.destination);
}

/**
 * Readable lines (stdout by default), written synchronously in this thread: no worker, nothing lost at exit.
 * pino-pretty (with its colour, date and formatting modules) is loaded only when a logger is pretty: a service
 * logging JSON never holds it. A synchronous require, because import() stays an ES module import under Node16
 * resolution, which jest's CommonJS VM cannot run.
 */
function prettyLines(destination: DestinationStream | undefined): DestinationStream {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { build } = require('pino-pretty') as typeof import('pino-pretty');
  return build({
    destination: destination ?? 1,
    colorize: destination === undefined && process.stdout.isTTY,
    sync: true,
    levelKey: 'log\\.level',
    messageKey: 'message',
    timestampKey: '@timestamp',
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: '{log\\.logger}: {message}',
    ignore: 'ecs\\.version,process\\.pid,host\\.hostname,log\\.logger',
  });
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

/** ECS's `error.code`: the stable code of the logged error (SIDECAR_ERR_*, or Node's ECONNRESET). */
function withErrorCode(line: Record<string, unknown>, err: unknown): Record<string, unknown> {
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const error = line.error;
  if (code === undefined || error === null || typeof error !== 'object') return line;
  return { ...line, error: { ...error, code } };
}

function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return redactValue(object, 0) as Record<string, unknown>;
}
