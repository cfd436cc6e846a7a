import { Writable } from 'node:stream';

import { createLogger, type Logger } from '../../core/log';

export interface LogLine {
  readonly level: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/**
 * A pino destination that keeps log objects so tests can assert on them. assertNoUnexpectedErrors() fails a
 * test on any error-level line it did not expect (STYLE.md: an unexpected error log fails the test).
 */
export class LogSink extends Writable {
  readonly lines: LogLine[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (error?: Error | null) => void): void {
    for (const text of chunk.toString('utf8').split('\n')) {
      if (text.trim() !== '') this.lines.push(JSON.parse(text) as LogLine);
    }
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
