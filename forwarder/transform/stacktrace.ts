import { isRecord, type JsonObject, list, nonEmptyObj, num, strings } from './json';
import { sanitizeKeys } from './values';

/** A non-empty string field of a frame, else undefined (as str() in json.ts). */
function frameString(frame: JsonObject, key: string): string | undefined {
  const value = frame[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * One intake stack frame in APM Server's document shape (line.*, context.pre/post, exclude_from_grouping).
 * The hottest mapper (a Node span carries ~16 frames): written with named stores instead of put(), whose
 * keyed store is megamorphic across all the document shapes; the key order is the same as put() gave.
 */
function frameDoc(frame: JsonObject): JsonObject {
  const out: JsonObject = {};
  const filename = frameString(frame, 'filename');
  if (filename !== undefined) out.filename = filename;
  const classname = frameString(frame, 'classname');
  if (classname !== undefined) out.classname = classname;
  const module = frameString(frame, 'module');
  if (module !== undefined) out.module = module;
  const fn = frameString(frame, 'function');
  if (fn !== undefined) out.function = fn;
  const absPath = frameString(frame, 'abs_path');
  if (absPath !== undefined) out.abs_path = absPath;
  const vars = nonEmptyObj(frame, 'vars');
  if (vars !== undefined) out.vars = sanitizeKeys(vars);
  if (frame.library_frame === true) out.library_frame = true;
  out.exclude_from_grouping = false;
  const line = lineDoc(frame);
  if (line !== undefined) out.line = line;
  const pre = strings(frame, 'pre_context');
  const post = strings(frame, 'post_context');
  if (pre !== undefined || post !== undefined) {
    const context: JsonObject = {};
    if (pre !== undefined) context.pre = pre;
    if (post !== undefined) context.post = post;
    out.context = context;
  }
  return out;
}

function lineDoc(frame: JsonObject): JsonObject | undefined {
  const number = num(frame, 'lineno');
  const column = num(frame, 'colno');
  const context = frameString(frame, 'context_line');
  if (number === undefined && column === undefined && context === undefined) return undefined;
  const line: JsonObject = {};
  if (number !== undefined) line.number = number;
  if (column !== undefined) line.column = column;
  if (context !== undefined) line.context = context;
  return line;
}

export function stacktraceDoc(from: JsonObject | undefined, key: string): JsonObject[] | undefined {
  const frames = list(from, key);
  return frames === undefined ? undefined : frames.filter(isRecord).map(frameDoc);
}
