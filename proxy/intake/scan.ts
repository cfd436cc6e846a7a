import { SidecarError } from '../../core/errors';
import { checkEventLine, checkMetadataLine, type IntakeDialect, intakeV2, type LineVerdict } from './line-check';
import type { LineSink } from './lines';
import type { MemoryLease } from './memory-budget';
import type { IntakeLineError } from './process';
import type { LineKind } from './validate';

/** A further judgement of a line that passed the schema (anonymous allow-lists); null when it may pass. */
export type LineInspector = (kind: LineKind, value: unknown) => IntakeLineError | null;

/** APM Server's wording for a too-large line (its response has no trailing period). */
const eventTooLargeMessage = 'event exceeded the permitted size';

/** Errors after this many keep no document: the response lists 5, the rest only count. */
const documentsKept = 5;

function isEmptyLine(line: Buffer): boolean {
  // Empty lines are allowed between events (APM Server); a lone '\r' is the empty line of a '\r\n' sender.
  return line.length === 0 || (line.length === 1 && line[0] === 0x0d);
}

/** IntakeLineScanner: the verdict on every line of one request, in arrival order. */
export class IntakeLineScanner implements LineSink {
  readonly errors: IntakeLineError[] = [];
  /** Ordinals of the accepted event lines, in order: the lines a rebuild keeps, cut by keepFirst. */
  readonly acceptedOrdinals: number[] = [];
  /** Accepted lines stored differently than received (trailing bytes after the JSON value dropped). */
  readonly rewritten = new Map<number, string>();
  metadataValid = false;
  /** Set when nothing more of the stream should be read (invalid metadata). */
  stopped = false;

  /** `lease`: the line being judged (its text and parsed value, about 4x its bytes) is reserved meanwhile. */
  constructor(
    private readonly dialect: IntakeDialect = intakeV2,
    private readonly inspect?: LineInspector,
    private readonly lease?: MemoryLease,
  ) {}

  /** Keeps only the first `count` accepted events; the others count as not received (a rate limit stopped them). */
  keepFirst(count: number): void {
    this.acceptedOrdinals.splice(count);
  }

  /** Events accepted so far. */
  get accepted(): number {
    return this.acceptedOrdinals.length;
  }

  private judged(verdict: LineVerdict): LineVerdict | IntakeLineError {
    if (!verdict.ok || this.inspect === undefined) return verdict;
    return this.inspect(verdict.kind, verdict.value) ?? verdict;
  }

  line(line: Buffer, ordinal: number, terminated: boolean): void {
    if (this.stopped) return;
    if (ordinal === 0) {
      this.metadataLine(line, terminated);
      return;
    }
    if (isEmptyLine(line)) return;
    const working = line.length * 4;
    this.lease?.reserve(working);
    try {
      this.eventLine(line, ordinal);
    } finally {
      this.lease?.free(working);
    }
  }

  private eventLine(line: Buffer, ordinal: number): void {
    const text = line.toString('utf8');
    const verdict = this.judged(checkEventLine(text, this.dialect));
    if ('ok' in verdict && verdict.ok) {
      this.acceptedOrdinals.push(ordinal);
      if (verdict.rewritten !== null) this.rewritten.set(ordinal, verdict.rewritten);
      return;
    }
    this.addError({ code: verdict.code, message: verdict.message, document: text });
  }

  tooLarge(head: Buffer, ordinal: number): void {
    if (this.stopped) return;
    this.addError({
      code: 'SIDECAR_ERR_EVENT_TOO_LARGE',
      message: eventTooLargeMessage,
      document: head.toString('utf8'),
    });
    if (ordinal === 0) this.stopped = true;
  }

  /** The stream failed (corrupt compression, too large): what was accepted so far stays accepted. */
  streamFailed(err: SidecarError): void {
    this.addError({ code: err.code, message: err.message });
    this.stopped = true;
  }

  private metadataLine(line: Buffer, terminated: boolean): void {
    const text = line.toString('utf8');
    const verdict = this.judged(checkMetadataLine(text, terminated, this.dialect));
    if ('ok' in verdict && verdict.ok) {
      this.metadataValid = true;
      if (verdict.rewritten !== null) this.rewritten.set(0, verdict.rewritten);
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
