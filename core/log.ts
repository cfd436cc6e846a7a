import { ecsFormat } from '@elastic/ecs-pino-format';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

import { SidecarError } from './errors';
import { redact, redactDeep } from './redact';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever they appear in a log object: credentials never reach a log line. The config's
 * secrets sit one or two levels down (output.elasticsearch.password, server.auth.secret_tokens).
 */
const redactedPaths: readonly string[] = [
  'req.headers.authorization',
  ...['authorization', 'secret_token'].flatMap((key) => [key, `*.${key}`]),
  ...['password', 'api_key', 'secret_tokens', 'key_passphrase'].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
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
  readonly format?: 'auto' | 'json' | 'pretty';
}

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
      log: (object) => withErrorCode(ecsLog(redactDeep(object) as Record<string, unknown>), object.err),
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

/** ECS's `error.code`: the stable code of the logged error (SIDECAR_ERR_*, or Node's ECONNRESET). */
function withErrorCode(line: Record<string, unknown>, err: unknown): Record<string, unknown> {
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  const error = line.error;
  if (code === undefined || error === null || typeof error !== 'object') return line;
  return { ...line, error: { ...error, code } };
}
