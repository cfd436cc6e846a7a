/**
 * Splits a decompressed intake stream into lines as chunks arrive, as APM Server's line reader does: a line
 * whose bytes before '\n' reach `maxEventSize` (its buffer holds the line and its newline) is reported once
 * as too large with its first `maxEventSize` bytes, the rest of it is skipped, and reading goes on with the
 * next line. Lines are numbered from 0 (the metadata line); empty lines keep their number.
 *
 * A line split across chunks is carried as views of its pieces and joined once, when it completes (or reaches
 * `maxEventSize`): joining at every chunk copied a line of n chunks n times (a 300 KB line in 16 KiB pieces: about
 * 3 MB of copies, garbage that outlived young-generation collections). No chunk's memory is ever written again
 * by its producer (zlib hands out fresh output, body chunks are the parser's copies), so a view stays valid. A
 * line being skipped holds nothing: at most `maxEventSize` bytes are carried per stream (`carriedBytes`).
 */

export interface LineSink {
  /** `line` is only valid during the call (it may share memory with the chunk). */
  line(line: Buffer, ordinal: number, terminated: boolean): void;
  tooLarge(head: Buffer, ordinal: number): void;
}

const newline = 0x0a;

export class LineSplitter {
  private carry: Buffer[] = [];
  private carried = 0;
  private skipping = false;
  private ordinal = 0;

  constructor(
    private readonly maxEventSize: number,
    private readonly sink: LineSink,
  ) {}

  /** Bytes of the unfinished line held now (less than `maxEventSize`). */
  get carriedBytes(): number {
    return this.carried;
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
    // A line being skipped carries nothing.
    if (this.carry.length > 0) this.emit(join(this.takeCarry(), this.maxEventSize), false);
  }

  private takeCarry(): Buffer[] {
    const parts = this.carry;
    this.carry = [];
    this.carried = 0;
    return parts;
  }

  private completeLine(chunk: Buffer, start: number, end: number): void {
    if (this.skipping) {
      this.skipping = false;
      return;
    }
    if (this.carried === 0) {
      this.emit(chunk.subarray(start, end));
      return;
    }
    const parts = this.takeCarry();
    parts.push(chunk.subarray(start, end));
    // One copy of the whole line (or of its first maxEventSize bytes when it is too large).
    this.emit(join(parts, this.maxEventSize));
  }

  private keepPartial(chunk: Buffer, start: number): void {
    if (this.skipping) return;
    const part = chunk.subarray(start);
    if (this.carried + part.length >= this.maxEventSize) {
      const parts = this.takeCarry();
      parts.push(part);
      this.reportTooLarge(join(parts, this.maxEventSize));
      this.skipping = true;
      return;
    }
    this.carry.push(part);
    this.carried += part.length;
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

/** The parts as one buffer, cut at `limit` bytes (a line that long is reported by its head only). */
function join(parts: readonly Buffer[], limit: number): Buffer {
  if (parts.length === 1 && parts[0] !== undefined) return parts[0];
  let total = 0;
  for (const part of parts) total += part.length;
  return Buffer.concat(parts, Math.min(total, limit));
}
