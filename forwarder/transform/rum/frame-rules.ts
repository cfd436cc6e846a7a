import { originalPositionFor, sourceContentFor, type TraceMap } from '@jridgewell/trace-mapping';

import { type ExceptionNode, groupingKey } from '../grouping';
import { isRecord, type JsonObject } from '../json';

/**
 * What APM Server does to RUM stack frames after decoding, in its order: source mapping (frames with abs_path,
 * line and column; the originals kept in frame.original, sourcemap.updated set, each mapped frame named after
 * the function the map names for the frame below it), then library frames (library_pattern on filename or
 * abs_path), then exclude_from_grouping (on filename), then the error's culprit from the first mapped
 * non-library frame, and the grouping key over the result. Works on finished documents; pure.
 */

export interface FrameRules {
  readonly libraryPattern: RegExp | null;
  readonly excludeFromGrouping: RegExp | null;
}

/** The source map of one bundle, already fetched (null: none uploaded). */
export type SourceMapLookup = (bundlePath: string) => TraceMap | null;

const contextLines = 5;

function frameLists(doc: JsonObject): JsonObject[][] {
  const lists: JsonObject[][] = [];
  const add = (holder: unknown): void => {
    if (isRecord(holder) && Array.isArray(holder.stacktrace)) lists.push(holder.stacktrace.filter(isRecord));
  };
  const error = doc.error;
  if (isRecord(error)) {
    if (Array.isArray(error.exception)) for (const e of error.exception) add(e);
    add(error.log);
  }
  add(doc.span);
  return lists;
}

/** A URL's path cleaned of dot segments and doubled slashes (APM Server's maybeCleanURLPath). */
function cleanBundlePath(absPath: string): string {
  if (!URL.canParse(absPath)) return absPath;
  const url = new URL(absPath);
  url.pathname = url.pathname.replace(/\/{2,}/g, '/');
  return url.toString();
}

/** Every bundle a document's frames would be mapped with. */
export function bundlePaths(doc: JsonObject): string[] {
  const out = new Set<string>();
  for (const frames of frameLists(doc))
    for (const frame of frames) if (mappable(frame)) out.add(cleanBundlePath(String(frame.abs_path)));
  return [...out];
}

function lineOf(frame: JsonObject): JsonObject | undefined {
  return isRecord(frame.line) ? frame.line : undefined;
}

function mappable(frame: JsonObject): boolean {
  const line = lineOf(frame);
  return (
    typeof frame.abs_path === 'string' &&
    frame.abs_path !== '' &&
    typeof line?.number === 'number' &&
    line.number >= 1 &&
    typeof line.column === 'number' &&
    line.column >= 0
  );
}

function snippet(map: TraceMap, source: string, line: number): { context?: string; pre?: string[]; post?: string[] } {
  const content = sourceContentFor(map, source);
  if (content === null) return {};
  const lines = content.split('\n');
  const pre = lines.slice(Math.max(0, line - 1 - contextLines), line - 1);
  const post = lines.slice(line, line + contextLines);
  return { context: lines[line - 1], ...(pre.length > 0 ? { pre } : {}), ...(post.length > 0 ? { post } : {}) };
}

/** Maps one frame in place; returns the function name the map gives at this position, or null when not mapped. */
function mapFrame(frame: JsonObject, lookup: SourceMapLookup, prevFunction: string): string | null {
  if (!mappable(frame)) return null;
  const path = cleanBundlePath(String(frame.abs_path));
  const map = lookup(path);
  const line = lineOf(frame);
  if (map === null || line === undefined) return null;
  // As APM Server passes the browser's column unchanged to its source map reader.
  const position = originalPositionFor(map, { line: Number(line.number), column: Number(line.column) });
  if (position.source === null) return null;
  const original: JsonObject = { abs_path: frame.abs_path, lineno: line.number, colno: line.column };
  if (typeof frame.filename === 'string') original.filename = frame.filename;
  if (typeof frame.function === 'string') original.function = frame.function;
  if (typeof frame.classname === 'string') original.classname = frame.classname;
  frame.original = original;
  frame.filename = position.source;
  frame.abs_path = path;
  frame.function = prevFunction;
  const context = snippet(map, position.source, position.line);
  const mappedLine: JsonObject = { number: position.line, column: position.column };
  if (context.context !== undefined) mappedLine.context = context.context;
  frame.line = mappedLine;
  if (context.pre !== undefined || context.post !== undefined)
    frame.context = { ...(context.pre ? { pre: context.pre } : {}), ...(context.post ? { post: context.post } : {}) };
  else delete frame.context;
  frame.sourcemap = { updated: true };
  return position.name ?? '<unknown>';
}

function applyLibraryAndGrouping(frame: JsonObject, rules: FrameRules): void {
  if (rules.libraryPattern !== null) {
    const original = isRecord(frame.original) ? frame.original : {};
    original.library_frame = frame.library_frame === true;
    frame.original = original;
    const { filename, abs_path: absPath } = frame;
    const library =
      (typeof filename === 'string' && filename !== '' && rules.libraryPattern.test(filename)) ||
      (typeof absPath === 'string' && absPath !== '' && rules.libraryPattern.test(absPath));
    frame.library_frame = library;
  }
  if (rules.excludeFromGrouping !== null) {
    frame.exclude_from_grouping =
      typeof frame.filename === 'string' && frame.filename !== '' && rules.excludeFromGrouping.test(frame.filename);
  }
}

function culprit(error: JsonObject): string | undefined {
  const candidates = [
    isRecord(error.log) ? error.log : undefined,
    Array.isArray(error.exception) && isRecord(error.exception[0]) ? error.exception[0] : undefined,
  ];
  for (const holder of candidates) {
    const frames = Array.isArray(holder?.stacktrace) ? holder.stacktrace.filter(isRecord) : [];
    const frame = frames.find((f) => isRecord(f.sourcemap) && f.sourcemap.updated === true && f.library_frame !== true);
    if (frame === undefined) continue;
    const name =
      typeof frame.filename === 'string' && frame.filename !== ''
        ? frame.filename
        : typeof frame.classname === 'string'
          ? frame.classname
          : '';
    return typeof frame.function === 'string' && frame.function !== '' ? `${name} in ${frame.function}` : name;
  }
  return undefined;
}

/** Applies the RUM frame rules to a finished document in place. */
export function applyRumFrameRules(doc: JsonObject, rules: FrameRules, lookup: SourceMapLookup | null): void {
  const lists = frameLists(doc);
  if (lists.length === 0) return;
  let mapped = false;
  for (const frames of lists) {
    let prevFunction = '<anonymous>';
    for (let i = frames.length - 1; i >= 0; i--) {
      const frame = frames[i];
      if (frame === undefined || lookup === null) continue;
      const name = mapFrame(frame, lookup, prevFunction);
      if (name !== null) {
        prevFunction = name;
        mapped = true;
      }
    }
    for (const frame of frames) applyLibraryAndGrouping(frame, rules);
  }
  const error = doc.error;
  if (!isRecord(error)) return;
  if (mapped) {
    const value = culprit(error);
    if (value !== undefined) error.culprit = value;
  }
  // The grouping key is over the frames as they are now (mapped, exclusions applied), as APM Server computes it last.
  const exceptions = Array.isArray(error.exception) ? error.exception.filter(isRecord) : [];
  const [first, ...rest] = exceptions;
  const tree: ExceptionNode | undefined =
    first === undefined ? undefined : { doc: first, causes: rest.map((d) => ({ doc: d, causes: [] })) };
  error.grouping_key = groupingKey(tree, isRecord(error.log) ? error.log : undefined);
}
