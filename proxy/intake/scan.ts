import { SidecarError } from '../../core/errors';
import { checkEventLine, checkMetadataLine } from './line-check';
import type { LineSink } from './lines';
import type { IntakeLineError } from './process';

/** APM Server's wording for a too-large line (its response has no trailing period). */
export const eventTooLargeMessage = 'event exceeded the permitted size';

/** Errors after this many keep no document: the response lists 5, the rest only count. */
const documentsKept = 5;

function isEmptyLine(line: Buffer): boolean {
  // Empty lines are allowed between events (APM Server); a lone '\r' is the empty line of a '\r\n' sender.
  return line.length === 0 || (line.length === 1 && line[0] === 0x0d);
}

/** IntakeLineScanner: the verdict on every line of one request, in arrival order. */
export class IntakeLineScanner implements LineSink {
  accepted = 0;
  readonly errors: IntakeLineError[] = [];
  /** Event lines (by ordinal) that were rejected. */
  readonly rejected = new Set<number>();
  /** Accepted lines stored differently than received (trailing bytes after the JSON value dropped). */
  readonly rewritten = new Map<number, string>();
  metadataValid = false;
  /** Set when nothing more of the stream should be read (invalid metadata). */
  stopped = false;

  line(line: Buffer, ordinal: number, terminated: boolean): void {
    if (this.stopped) return;
    if (ordinal === 0) {
      this.metadataLine(line, terminated);
      return;
    }
    if (isEmptyLine(line)) return;
    const text = line.toString('utf8');
    const verdict = checkEventLine(text);
    if (verdict.ok) {
      this.accepted++;
      if (verdict.rewritten !== null) this.rewritten.set(ordinal, verdict.rewritten);
      return;
    }
    this.rejected.add(ordinal);
    this.addError({ code: verdict.code, message: verdict.message, document: text });
  }

  tooLarge(head: Buffer, ordinal: number): void {
    if (this.stopped) return;
    this.addError({ code: 'SIDECAR_ERR_EVENT_TOO_LARGE', message: eventTooLargeMessage, document: head.toString('utf8') });
    if (ordinal === 0) {
      this.stopped = true;
      return;
    }
    this.rejected.add(ordinal);
  }

  /** The stream failed (corrupt compression, too large): what was accepted so far stays accepted. */
  streamFailed(err: SidecarError): void {
    this.addError({ code: err.code, message: err.message });
    this.stopped = true;
  }

  private metadataLine(line: Buffer, terminated: boolean): void {
    const text = line.toString('utf8');
    const verdict = checkMetadataLine(text, terminated);
    if (verdict.ok) {
      this.metadataValid = true;
      return;
    }
    this.addError({ code: verdict.code, message: verdict.message, document: text });
    this.stopped = true;
  }

  private addError(error: IntakeLineError): void {
    const keepDocument = this.errors.length < documentsKept && error.document !== undefined && error.document !== '';
    this.errors.push(keepDocument ? error : { code: error.code, message: error.message });
  }
}
