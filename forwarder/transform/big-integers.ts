import { randomBytes } from 'node:crypto';

import { digitRunFlags, mayHoldUnsafeInteger } from './digit-runs';

/**
 * Integers beyond 2^53 in free-form maps (`context.custom`, `context.request.env` / `.body`, exception
 * `attributes`), kept exact: JSON.parse rounds 9007199254740993 to ...992, and Node 20 has neither
 * `JSON.parse` source text access nor `JSON.rawJSON`. A line with such a literal (rare: it needs 16+ digits) is
 * scanned once for the paths of those literals; in the free-form maps the parsed number is replaced by a
 * marker string holding the source digits, and the serializer writes the digits back verbatim (restoreRawIntegers).
 * Elsewhere (typed fields) the rounded number stays: there the field's type decides, as APM Server's decoder does.
 * (APM Server since 8.10 turns these maps into protobuf Structs whose numbers are float64, so it rounds them too;
 * keeping the source text is the safer answer.)
 */

/** A per-process nonce: an agent cannot forge the marker in its own strings. */
const nonce = randomBytes(8).toString('hex');
const markerPrefix = `\u0000${nonce}:`;
/** The marker as JSON.stringify writes it (U+0000 is escaped as \u0000). */
const serializedMarker = new RegExp(`"\\\\u0000${nonce}:(-?\\d+)\\\\u0000"`, 'g');

const maxSafe = 2n ** 53n;
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

type Path = Array<string | number>;
type Frame = { kind: 'object'; key: string } | { kind: 'array'; index: number };

const numberChar = /[0-9.eE+-]/;
const integerText = /^-?\d{16,}$/;

/** Free-form maps, relative to the event body (`event.transaction`, `event.error`, ...); `*` is any array index. */
const freeForm: ReadonlyArray<readonly string[]> = [
  ['context', 'custom'],
  ['context', 'request', 'env'],
  ['context', 'request', 'body'],
  ['exception', 'attributes'],
  ['exception', 'cause', '*', 'attributes'],
];

/** True when `path` (from the line's root: [eventType, ...]) lies inside a free-form map. */
function inFreeForm(path: Path): boolean {
  const body = path.slice(1);
  return freeForm.some(
    (prefix) =>
      body.length > prefix.length &&
      prefix.every((part, i) => (part === '*' ? typeof body[i] === 'number' : body[i] === part)),
  );
}

/** Outside int64 a digit run is no integer APM Server or Elasticsearch keeps: leave it to the float parse. */
function isUnsafeInt64(text: string): boolean {
  const value = BigInt(text);
  const magnitude = value < 0n ? -value : value;
  return magnitude > maxSafe && value >= int64Min && value <= int64Max;
}

/**
 * Paths and source text of the integer literals beyond 2^53 (within int64) in one JSON line. A linear scan that
 * tracks only the container path; the line was parsed by JSON.parse already, so it is well formed up to the
 * first complete value (the scan stops there). Duplicate keys: the last one wins, as in JSON.parse.
 */
export function unsafeIntegerLiterals(line: string): Array<{ path: Path; text: string }> {
  const found = new Map<string, { path: Path; text: string }>();
  const stack: Frame[] = [];
  const n = line.length;
  let i = 0;
  /** A value starts at i: it is the next element of an enclosing array. */
  const valueStarts = (): void => {
    const top = stack[stack.length - 1];
    if (top !== undefined && top.kind === 'array') top.index++;
  };
  const path = (): Path => stack.map((f) => (f.kind === 'array' ? f.index : f.key));
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 123 || c === 91) {
      valueStarts();
      stack.push(c === 123 ? { kind: 'object', key: '' } : { kind: 'array', index: -1 });
      i++;
    } else if (c === 125 || c === 93) {
      stack.pop();
      i++;
      if (stack.length === 0) break;
    } else if (c === 34) {
      const start = i++;
      while (i < n && line.charCodeAt(i) !== 34) i += line.charCodeAt(i) === 92 ? 2 : 1;
      i++;
      let j = i;
      while (j < n && (line.charCodeAt(j) === 32 || line.charCodeAt(j) === 9)) j++;
      const top = stack[stack.length - 1];
      if (top !== undefined && top.kind === 'object' && line.charCodeAt(j) === 58) {
        const key: unknown = JSON.parse(line.slice(start, i));
        top.key = typeof key === 'string' ? key : '';
        i = j + 1;
      } else valueStarts();
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      valueStarts();
      const start = i++;
      while (i < n && numberChar.test(line.charAt(i))) i++;
      const text = line.slice(start, i);
      if (integerText.test(text) && isUnsafeInt64(text)) {
        const at = path();
        found.set(JSON.stringify(at), { path: at, text });
      }
    } else if (c === 116 || c === 102 || c === 110) {
      valueStarts();
      i += c === 102 ? 5 : 4;
    } else i++;
  }
  return [...found.values()];
}

function child(container: unknown, key: string | number): unknown {
  if (Array.isArray(container)) return typeof key === 'number' ? container[key] : undefined;
  if (container === null || typeof container !== 'object' || typeof key !== 'string') return undefined;
  return Object.getOwnPropertyDescriptor(container, key)?.value;
}

function setAt(root: unknown, path: Path, value: string): boolean {
  const last = path[path.length - 1];
  let at: unknown = root;
  for (const key of path.slice(0, -1)) at = child(at, key);
  if (last === undefined || typeof child(at, last) !== 'number') return false;
  if (Array.isArray(at) && typeof last === 'number') at[last] = value;
  else if (at !== null && typeof at === 'object' && typeof last === 'string') Reflect.set(at, last, value);
  else return false;
  return true;
}

/**
 * Replaces the rounded numbers of free-form maps in `event` (parsed from `line`) by markers of their source
 * text; true when any was replaced (the document then needs restoreRawIntegers after serialization). Only a
 * line with a digit run that can exceed 2^53 is scanned (`flags`, digit-runs.ts): the 16-digit microsecond
 * timestamps every event carries (1.7e15) do not count, so a typical line never is.
 */
export function keepRawIntegers(line: string, event: unknown, flags = digitRunFlags(line)): boolean {
  if ((flags & mayHoldUnsafeInteger) === 0) return false;
  let kept = false;
  for (const { path, text } of unsafeIntegerLiterals(line)) {
    if (inFreeForm(path) && setAt(event, path, `${markerPrefix}${text}\u0000`)) kept = true;
  }
  return kept;
}

/** Writes the markers of keepRawIntegers back as the integers they hold, in serialized JSON. */
export function restoreRawIntegers(json: string): string {
  return json.replace(serializedMarker, '$1');
}
