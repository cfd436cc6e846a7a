/**
 * Splits a decompressed intake stream into lines as chunks arrive, as APM Server's line reader does: a line
 * whose bytes before '\n' reach `maxEventSize` (its buffer holds the line and its newline) is reported once
 * as too large with its first `maxEventSize` bytes, the rest of it is skipped, and reading goes on with the
 * next line. Lines are numbered from 0 (the metadata line); empty lines keep their number.
 */

export interface LineSink {
  /** `line` is only valid during the call (it may share memory with the chunk). */
  line(line: Buffer, ordinal: number, terminated: boolean): void;
  tooLarge(head: Buffer, ordinal: number): void;
}

const newline = 0x0a;

export class LineSplitter {
  private carry: Buffer | null = null;
  private skipping = false;
  private ordinal = 0;

  constructor(
    private readonly maxEventSize: number,
    private readonly sink: LineSink,
  ) {}

  /** Lines seen so far (complete or too large). */
  get lineCount(): number {
    return this.ordinal;
  }

  /**
   * Returns true when the whole chunk fell inside a line already reported too large (no newline in it): its bytes
   * mean nothing to anyone (a replay without them splits the same lines, with the same numbers and verdicts).
   */
  push(chunk: Buffer): boolean {
    if (this.skipping && chunk.indexOf(newline) === -1) return true;
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(newline, start);
      if (end === -1) {
        this.keepPartial(chunk, start);
        return false;
      }
      this.completeLine(chunk, start, end);
      start = end + 1;
    }
    return false;
  }

  /** The stream ended: a last line without '\n' is still a line. */
  end(): void {
    const rest = this.carry;
    this.carry = null;
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (rest !== null && rest.length > 0) this.emit(rest, false);
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    if (this.skipping) {
      this.skipping = false;
      this.carry = null;
      return;
    }
    const carry = this.carry;
    this.carry = null;
    if (carry === null) {
      this.emit(chunk.subarray(start, end));
      return;
    }
    if (carry.length + (end - start) >= this.maxEventSize) {
      this.reportTooLarge(Buffer.concat([carry, chunk.subarray(start, Math.min(end, start + this.maxEventSize))]));
      return;
    }
    this.emit(Buffer.concat([carry, chunk.subarray(start, end)]));
  }

  private keepPartial(chunk: Buffer, start: number): void {
    if (this.skipping) return;
    const carried = this.carry === null ? 0 : this.carry.length;
    const part = chunk.subarray(start);
    if (carried + part.length >= this.maxEventSize) {
      const head = this.carry === null ? part : Buffer.concat([this.carry, part]);
      this.carry = null;
      this.reportTooLarge(head);
      this.skipping = true;
      return;
    }
    // Copy: the chunk's memory may be reused by the decompressor after we return.
    this.carry = this.carry === null ? Buffer.from(part) : Buffer.concat([this.carry, part]);
  }

  private reportTooLarge(head: Buffer): void {
    this.sink.tooLarge(head.subarray(0, this.maxEventSize), this.ordinal++);
  }

  private emit(line: Buffer, terminated = true): void {
    if (line.length >= this.maxEventSize) {
      this.reportTooLarge(line);
      return;
    }
    this.sink.line(line, this.ordinal++, terminated);
  }
}
