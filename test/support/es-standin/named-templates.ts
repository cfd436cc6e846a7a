import { isObject, type JsonObject } from './json';
import { DocumentRejected } from './mappings';

/**
 * A bulk action's `dynamic_templates` (field -> template name), as Elasticsearch applies it: the named template
 * must exist in the index's mappings, else the item is refused; its mapping decides the field. The stand-in
 * models the types APM metrics use: histogram, aggregate_metric_double, and an object (enabled or not).
 */

/** Types whose value is one object indexed as a whole (its keys are not fields of their own). */
export const wholeValueTypes = new Set(['histogram', 'aggregate_metric_double', 'object_disabled']);

function templateMapping(dynamicTemplates: unknown, name: string): JsonObject | undefined {
  for (const entry of Array.isArray(dynamicTemplates) ? dynamicTemplates : []) {
    if (!isObject(entry)) continue;
    const rule = entry[name];
    if (isObject(rule) && isObject(rule['mapping'])) return rule['mapping'];
  }
  return undefined;
}

function refuse(path: string, reason: string): never {
  throw new DocumentRejected(400, {
    type: 'document_parsing_exception',
    reason: `[1:1] failed to parse field [${path}]: ${reason}`,
    caused_by: { type: 'illegal_argument_exception', reason },
  });
}

function numbers(value: unknown): number[] | undefined {
  return Array.isArray(value) && value.every((v): v is number => typeof v === 'number') ? value : undefined;
}

/** The type `value` at `path` takes from the template `name`; throws DocumentRejected as Elasticsearch would. */
export function namedTemplateType(dynamicTemplates: unknown, name: string, path: string, value: unknown): string {
  const mapping = templateMapping(dynamicTemplates, name);
  if (mapping === undefined) {
    throw new DocumentRejected(400, {
      type: 'document_parsing_exception',
      reason: `[1:1] Can't find dynamic template for dynamic template name [${name}] of field [${path}]`,
    });
  }
  const type = typeof mapping['type'] === 'string' ? mapping['type'] : 'object';
  if (type === 'histogram') {
    const values = isObject(value) ? numbers(value['values']) : undefined;
    const counts = isObject(value) ? numbers(value['counts']) : undefined;
    if (values === undefined || counts === undefined || values.length !== counts.length)
      refuse(path, 'expected [values] and [counts] arrays of the same length');
    for (let i = 1; i < values.length; i++)
      if ((values[i] ?? 0) < (values[i - 1] ?? 0)) refuse(path, '[values] must be in increasing order');
    return type;
  }
  if (type === 'aggregate_metric_double') {
    const metrics = Array.isArray(mapping['metrics']) ? mapping['metrics'] : [];
    if (!isObject(value)) refuse(path, 'expected an object of metrics');
    for (const key of Object.keys(value))
      if (!metrics.includes(key) || typeof value[key] !== 'number')
        refuse(path, `Aggregate metric [${key}] does not exist in the mapping of field [${path}]`);
    return type;
  }
  if (type === 'object' && mapping['enabled'] === false) return 'object_disabled';
  return type;
}
