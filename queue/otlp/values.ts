import type { Attributes, OtlpValue, Resource, Scope } from './model';
import { bool, bytes, list, number, OtlpDecodeError, record, text } from './plain';

/** Nesting beyond this is refused: no SDK sends it, and a hostile body must not exhaust the stack. */
const maxDepth = 32;

/** An AnyValue (its oneof: string, bool, int, double, array, kvlist, bytes; none set is null). */
export function anyValue(value: unknown, where: string, depth = 0): OtlpValue {
  if (depth > maxDepth) throw new OtlpDecodeError(`${where} nests deeper than ${maxDepth}`);
  const v = record(value, where);
  if (v.stringValue !== undefined && v.stringValue !== null) return text(v.stringValue, `${where}.stringValue`);
  if (v.boolValue !== undefined && v.boolValue !== null) return bool(v.boolValue, `${where}.boolValue`);
  if (v.intValue !== undefined && v.intValue !== null) return Math.trunc(number(v.intValue, `${where}.intValue`));
  if (v.doubleValue !== undefined && v.doubleValue !== null) return number(v.doubleValue, `${where}.doubleValue`);
  if (v.arrayValue !== undefined && v.arrayValue !== null) {
    const values = list(record(v.arrayValue, `${where}.arrayValue`).values, `${where}.arrayValue.values`);
    return values.map((item, i) => anyValue(item, `${where}.arrayValue.values[${i}]`, depth + 1));
  }
  if (v.kvlistValue !== undefined && v.kvlistValue !== null) {
    return attributes(record(v.kvlistValue, `${where}.kvlistValue`).values, `${where}.kvlistValue`, depth + 1);
  }
  if (v.bytesValue !== undefined && v.bytesValue !== null) return bytes(v.bytesValue, `${where}.bytesValue`);
  return null;
}

/** A repeated KeyValue as a Map; of a repeated key the last one wins. */
export function attributes(value: unknown, where: string, depth = 0): Attributes {
  const map = new Map<string, OtlpValue>();
  list(value, where).forEach((item, i) => {
    const kv = record(item, `${where}[${i}]`);
    map.set(text(kv.key, `${where}[${i}].key`), anyValue(kv.value, `${where}[${i}].value`, depth));
  });
  return map;
}

export function resource(value: unknown, where: string): Resource {
  return { attributes: attributes(record(value, where).attributes, `${where}.attributes`) };
}

export function scope(value: unknown, where: string): Scope {
  const s = record(value, where);
  return {
    name: text(s.name, `${where}.name`),
    version: text(s.version, `${where}.version`),
    attributes: attributes(s.attributes, `${where}.attributes`),
  };
}
