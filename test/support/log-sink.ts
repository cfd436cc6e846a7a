import { Writable } from 'node:stream';

import { createLogger, type Logger } from '../../core/log';
import { type LogLine, parseLogLines } from './log-line';

export type { LogLine } from './log-line';

/**
 * A pino destination that keeps log objects so tests can assert on them. assertNoUnexpectedErrors() fails a
 * test on any error-level line it did not expect (STYLE.md: an unexpected error log fails the test).
 */
export class LogSink extends Writable {
  readonly lines: LogLine[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    this.lines.push(...parseLogLines(chunk.toString('utf8')));
    done();
  }

  logger(name = 'test', level = 'debug'): Logger {
    return createLogger({ name, level, destination: this });
  }

  errors(): LogLine[] {
    return this.lines.filter((l) => l.level === 'error' || l.level === 'fatal');
  }

  assertNoUnexpectedErrors(expected: RegExp[] = []): void {
    const unexpected = this.errors().filter((l) => !expected.some((re) => re.test(String(l.msg ?? ''))));
    if (unexpected.length > 0)
      throw new Error(`unexpected error log lines:\n${unexpected.map((l) => JSON.stringify(l)).join('\n')}`);
  }
}
