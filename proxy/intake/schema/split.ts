import { isRecord } from '../../../core/parse';
import type { SchemaNode } from './builders';

/**
 * The same schema with every large subtree moved behind the `apmSplit` keyword (keywords.ts), so ajv compiles it
 * as a function of its own. Compiled whole, an event schema is one function of 100-200 kB of source: too large
 * for V8's optimizing compiler (max-optimized-bytecode-size), so it ran in baseline code for the life of the
 * process, about twice as slow. Split, each function is small enough to be optimized. Judging is unchanged
 * (apmSplit passes the value and its data context through; makeIsSet sees through it); only errors differ,
 * so validate.ts words failures with the whole schema.
 */

/** Subtrees whose JSON is larger than this get their own function (about 16 bytes of code per byte here). */
const splitAboveChars = 1000;

function splitNode(node: SchemaNode, depth: number): SchemaNode {
  const out: Record<string, unknown> = { ...node };
  const properties = node.properties;
  if (isRecord(properties)) {
    const split: Record<string, unknown> = {};
    for (const [name, sub] of Object.entries(properties)) split[name] = isRecord(sub) ? splitNode(sub, depth + 1) : sub;
    out.properties = split;
  }
  for (const key of ['items', 'additionalProperties'] as const) {
    const sub = node[key];
    if (isRecord(sub)) out[key] = splitNode(sub, depth + 1);
  }
  return depth > 0 && JSON.stringify(out).length > splitAboveChars ? { apmSplit: out } : out;
}

export function splitLarge(schema: SchemaNode): SchemaNode {
  return splitNode(schema, 0);
}
