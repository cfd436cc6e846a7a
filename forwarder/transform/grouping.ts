import { isRecord, type JsonObject } from './json';
import { xxhash64Hex } from './xxhash64';

/**
 * error.grouping_key as APM Server computes it (apm-data SetGroupingKey): XXH64 over exception types, the log's
 * param_message, then exception stack frames (else log frames), falling back to messages. Works on the
 * document-shaped exception tree and log written by error.ts.
 */
export interface ExceptionNode {
  readonly doc: JsonObject;
  readonly causes: readonly ExceptionNode[];
}

function walk(node: ExceptionNode, visit: (doc: JsonObject) => boolean): boolean {
  let updated = visit(node.doc);
  for (const cause of node.causes) if (walk(cause, visit)) updated = true;
  return updated;
}

function field(doc: JsonObject | undefined, key: string): string | undefined {
  const value = doc?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function groupingKey(exception: ExceptionNode | undefined, log: JsonObject | undefined): string {
  const parts: string[] = [];
  const write = (s: string | undefined): boolean => {
    if (s === undefined) return false;
    parts.push(s);
    return true;
  };
  const frames = (stacktrace: unknown): boolean => {
    if (!Array.isArray(stacktrace)) return false;
    let updated = false;
    for (const frame of stacktrace) {
      if (!isRecord(frame) || frame.exclude_from_grouping === true) continue;
      if (write(field(frame, 'module') ?? field(frame, 'filename') ?? field(frame, 'classname'))) updated = true;
      if (write(field(frame, 'function'))) updated = true;
    }
    return updated;
  };
  let updated = exception !== undefined && walk(exception, (doc) => write(field(doc, 'type')));
  if (write(field(log, 'param_message'))) updated = true;
  const haveExceptionFrames = exception !== undefined && walk(exception, (doc) => frames(doc.stacktrace));
  updated = updated || haveExceptionFrames;
  if (!haveExceptionFrames && log !== undefined && frames(log.stacktrace)) updated = true;
  if (!updated) {
    const wroteMessage = exception !== undefined && walk(exception, (doc) => write(field(doc, 'message')));
    if (!wroteMessage) write(field(log, 'message'));
  }
  return xxhash64Hex(Buffer.from(parts.join(''), 'utf8'));
}
