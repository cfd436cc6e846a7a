/**
 * Readers of the plain objects that protobufjs's toObject and JSON.parse produce for an OTLP request. Both use the
 * lowerCamelCase field names; they differ in bytes (a Buffer from protobuf; hex ids and base64 bytes values in
 * OTLP/JSON) and in 64-bit integers (strings from protobufjs; strings or numbers in JSON). Every reader throws
 * OtlpDecodeError naming the field, which the proxy answers with a 400.
 */

import { InternalError } from '../../core/errors';

export class OtlpDecodeError extends InternalError {
  constructor(message: string) {
    super('SIDECAR_ERR_OTLP_DECODE', message);
  }
}

export type Plain = Readonly<Record<string, unknown>>;

function isPlain(value: unknown): value is Plain {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** An absent or null field reads as its default, as proto3 says. */
function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export function record(value: unknown, where: string): Plain {
  if (absent(value)) return {};
  if (!isPlain(value)) throw new OtlpDecodeError(`${where} must be an object`);
  return value;
}

export function list(value: unknown, where: string): readonly unknown[] {
  if (absent(value)) return [];
  if (!Array.isArray(value)) throw new OtlpDecodeError(`${where} must be an array`);
  return value;
}

export function text(value: unknown, where: string): string {
  if (absent(value)) return '';
  if (typeof value !== 'string') throw new OtlpDecodeError(`${where} must be a string`);
  return value;
}

export function bool(value: unknown, where: string): boolean {
  if (absent(value)) return false;
  if (typeof value !== 'boolean') throw new OtlpDecodeError(`${where} must be a boolean`);
  return value;
}

const numericString = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const specialDoubles: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
};

/** A double, a 32-bit integer, or a 64-bit integer as protobufjs and proto3 JSON write it (a decimal string). */
export function number(value: unknown, where: string): number {
  if (absent(value)) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const special = specialDoubles[value];
    if (special !== undefined) return special;
    if (numericString.test(value)) return Number(value);
  }
  throw new OtlpDecodeError(`${where} must be a number`);
}

export function optionalNumber(value: unknown, where: string): number | undefined {
  return absent(value) ? undefined : number(value, where);
}

/** An enum: proto3 JSON allows the value's name as well as its number. */
export function enumValue(value: unknown, names: readonly string[], where: string): number {
  if (typeof value === 'string' && !numericString.test(value)) {
    const index = names.indexOf(value);
    if (index < 0) throw new OtlpDecodeError(`${where}: unknown value ${value}`);
    return index;
  }
  return Math.trunc(number(value, where));
}

/** A fixed64 nanosecond timestamp. */
export function nanos(value: unknown, where: string): bigint {
  if (absent(value)) return 0n;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  throw new OtlpDecodeError(`${where} must be an unsigned integer`);
}

const hexPattern = /^[0-9a-fA-F]*$/;

/**
 * A trace or span id as lower-case hex, '' when absent. OTLP/JSON writes ids as hex strings, not base64 as proto3
 * JSON would: a generic proto3-JSON parser gets them wrong.
 */
export function id(value: unknown, bytes: 8 | 16, where: string): string {
  if (absent(value)) return '';
  if (value instanceof Uint8Array) {
    if (value.length === 0) return '';
    if (value.length !== bytes) throw new OtlpDecodeError(`${where} must be ${bytes} bytes, not ${value.length}`);
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  }
  if (typeof value === 'string') {
    if (value === '') return '';
    if (value.length !== bytes * 2 || !hexPattern.test(value))
      throw new OtlpDecodeError(`${where} must be ${bytes * 2} hex digits`);
    return value.toLowerCase();
  }
  throw new OtlpDecodeError(`${where} must be bytes or a hex string`);
}

/** A bytes value: a Buffer from protobuf, base64 in JSON. */
export function bytes(value: unknown, where: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'base64');
  throw new OtlpDecodeError(`${where} must be bytes`);
}
