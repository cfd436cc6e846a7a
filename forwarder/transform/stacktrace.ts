import { bool, isRecord, list, nonEmptyObj, num, orUndefined, put, str, strings, type JsonObject } from './json';
import { sanitizeKeys } from './values';

/** One intake stack frame in APM Server's document shape (line.*, context.pre/post, exclude_from_grouping). */
function frameDoc(frame: JsonObject): JsonObject {
  const out: JsonObject = {};
  put(out, 'filename', str(frame, 'filename'));
  put(out, 'classname', str(frame, 'classname'));
  put(out, 'module', str(frame, 'module'));
  put(out, 'function', str(frame, 'function'));
  put(out, 'abs_path', str(frame, 'abs_path'));
  const vars = nonEmptyObj(frame, 'vars');
  if (vars !== undefined) out.vars = sanitizeKeys(vars);
  if (bool(frame, 'library_frame') === true) out.library_frame = true;
  out.exclude_from_grouping = false;
  const line: JsonObject = {};
  put(line, 'number', num(frame, 'lineno'));
  put(line, 'column', num(frame, 'colno'));
  put(line, 'context', str(frame, 'context_line'));
  put(out, 'line', orUndefined(line));
  const context: JsonObject = {};
  put(context, 'pre', strings(frame, 'pre_context'));
  put(context, 'post', strings(frame, 'post_context'));
  put(out, 'context', orUndefined(context));
  return out;
}

export function stacktraceDoc(from: JsonObject | undefined, key: string): JsonObject[] | undefined {
  const frames = list(from, key);
  return frames === undefined ? undefined : frames.filter(isRecord).map(frameDoc);
}
