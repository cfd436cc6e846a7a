import type Ajv from 'ajv';
import { _, type KeywordCxt, type SchemaObjCxt, str } from 'ajv';
import { useFunc } from 'ajv/dist/compile/util';
import ucs2length from 'ajv/dist/runtime/ucs2length';
import type { DataValidateFunction, DataValidationCxt, ErrorObject, KeywordDefinition } from 'ajv/dist/types';

import { isRecord } from '../../../core/parse';
import { boundsProblem } from '../json-bounds';
import type { SchemaNode } from './builders';

/**
 * Custom ajv keywords for APM Server's rules that JSON Schema cannot say directly. Their errors carry the
 * leaf of APM Server's message in `message`; validate.ts prefixes the field path.
 */

type IsSet = (value: unknown) => boolean;

function typesOf(schema: SchemaNode): readonly unknown[] {
  const type = schema.type;
  return Array.isArray(type) ? type : [type];
}

/**
 * APM Server's IsSet(): not null and, for an object with known fields, one of them set; for lists and maps,
 * not empty. Built once per schema node at compile time.
 */
function makeIsSet(schema: SchemaNode | undefined): IsSet {
  if (schema === undefined) return (value) => value !== null && value !== undefined;
  if (isRecord(schema.apmSplit)) return makeIsSet(schema.apmSplit);
  const properties = schema.properties;
  if (isRecord(properties)) {
    const names = Object.keys(properties);
    const fieldIsSet = names.map((name) => makeIsSet(propertySchema(schema, name)));
    return (value) => {
      if (!isRecord(value)) return value !== null && value !== undefined;
      // Indexed loops over parallel arrays: this runs for every required object of every line.
      for (let i = 0; i < names.length; i++) if ((fieldIsSet[i] as IsSet)(value[names[i] as string])) return true;
      return false;
    };
  }
  const types = typesOf(schema);
  if (types.includes('array'))
    return (value) => (Array.isArray(value) ? value.length > 0 : value !== null && value !== undefined);
  if (types.includes('object')) {
    return (value) => (isRecord(value) ? Object.keys(value).length > 0 : value !== null && value !== undefined);
  }
  return (value) => value !== null && value !== undefined;
}

function propertySchema(parent: SchemaNode, name: string): SchemaNode | undefined {
  const properties = parent.properties;
  if (!isRecord(properties)) return undefined;
  const sub = properties[name];
  return isRecord(sub) ? sub : undefined;
}

function fail(fn: DataValidateFunction, keyword: string, message: string): false {
  const error: Partial<ErrorObject> = { keyword, message, params: {} };
  fn.errors = [error];
  return false;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The APM keywords, in the order ajv applies them. */
const apmKeywords: readonly KeywordDefinition[] = [
  /**
   * maxLength as ajv's own (code points, the same error), with a fast path: a string of at most `limit` UTF-16 units
   * has at most `limit` code points, so only a longer one is counted. Ajv counts every string of every line it
   * checks; almost all are far below their limit.
   */
  {
    keyword: 'maxLength',
    type: 'string',
    schemaType: 'number',
    error: {
      message: ({ schemaCode }) => str`must NOT have more than ${schemaCode} characters`,
      params: ({ schemaCode }) => _`{limit: ${schemaCode}}`,
    },
    code(cxt: KeywordCxt) {
      const { data, schemaCode, gen } = cxt;
      cxt.fail(_`${data}.length > ${schemaCode} && ${useFunc(gen, ucs2length)}(${data}) > ${schemaCode}`);
    },
  },
  {
    keyword: 'apmRequired',
    schemaType: 'array',
    errors: true,
    compile(names: unknown, parent: SchemaNode) {
      const list = stringList(names);
      const checks = list.map((name) => makeIsSet(propertySchema(parent, name)));
      const fn: DataValidateFunction = (data: unknown) => {
        if (!isRecord(data)) return true;
        for (let i = 0; i < list.length; i++) {
          const name = list[i] as string;
          if (!(checks[i] as IsSet)(data[name])) return fail(fn, 'apmRequired', `'${name}' required`);
        }
        return true;
      };
      return fn;
    },
  },
  {
    keyword: 'apmAnyOf',
    schemaType: 'array',
    errors: true,
    compile(names: unknown, parent: SchemaNode) {
      const list = stringList(names);
      const checks = list.map((name) => makeIsSet(propertySchema(parent, name)));
      const message = `requires at least one of the fields '${list.join(';')}'`;
      const fn: DataValidateFunction = (data: unknown) => {
        if (!isRecord(data)) return true;
        return list.some((name, i) => checks[i]?.(data[name]) === true) ? true : fail(fn, 'apmAnyOf', message);
      };
      return fn;
    },
  },
  {
    keyword: 'apmRequiredIfAny',
    schemaType: 'object',
    errors: true,
    compile(rules: Record<string, unknown>, parent: SchemaNode) {
      const isSetOf = (name: string): IsSet => makeIsSet(propertySchema(parent, name));
      const checks = Object.entries(rules).map(([name, others]) => ({
        name,
        isSet: isSetOf(name),
        others: stringList(others).map((other) => [other, isSetOf(other)] as const),
      }));
      const fn: DataValidateFunction = (data: unknown) => {
        if (!isRecord(data)) return true;
        for (const { name, isSet, others } of checks) {
          if (isSet(data[name])) continue;
          for (const [other, otherIsSet] of others) {
            if (otherIsSet(data[other]))
              return fail(fn, 'apmRequiredIfAny', `'${name}' required when '${other}' is set`);
          }
        }
        return true;
      };
      return fn;
    },
  },
  {
    keyword: 'apmElementsSet',
    schemaType: 'string',
    errors: true,
    compile(name: unknown, parent: SchemaNode) {
      const items = isRecord(parent.items) ? parent.items : undefined;
      const isSet = makeIsSet(items);
      const message = `${String(name)} slice element required`;
      const fn: DataValidateFunction = (data: unknown) => {
        if (!Array.isArray(data)) return true;
        return data.every((element) => isSet(element)) ? true : fail(fn, 'apmElementsSet', message);
      };
      return fn;
    },
  },
  {
    keyword: 'apmLabels',
    schemaType: 'boolean',
    errors: true,
    compile() {
      const fn: DataValidateFunction = (data: unknown) => {
        if (!isRecord(data)) return true;
        for (const key in data) {
          const value = data[key];
          if (value === null || typeof value === 'boolean' || typeof value === 'number') continue;
          if (typeof value !== 'string')
            return fail(
              fn,
              'apmLabels',
              `validation rule 'inputTypesVals(string;bool;number)' violated for key ${key}`,
            );
          if (value.length > 1024 && ucs2length(value) > 1024)
            return fail(fn, 'apmLabels', "validation rule 'maxLengthVals(1024)' violated");
        }
        return true;
      };
      return fn;
    },
  },
  {
    keyword: 'apmInputTypes',
    schemaType: 'string',
    errors: true,
    compile(spec: unknown) {
      const allowed = String(spec).split(';');
      const rule = `inputTypes(${allowed.filter((t) => t !== 'targetInt').join(';')})`;
      const targetInt = allowed.includes('targetInt');
      const fn: DataValidateFunction = (data: unknown) => {
        if (data === null || data === undefined) return true;
        if (typeof data === 'string' && allowed.includes('string')) {
          return !targetInt || /^[+-]?\d+$/.test(data)
            ? true
            : fail(fn, 'apmInputTypes', "validation rule 'targetType(int)' violated");
        }
        if (typeof data === 'number' && Number.isInteger(data) && allowed.includes('int')) return true;
        if (isRecord(data) && allowed.includes('object')) return true;
        return fail(fn, 'apmInputTypes', `validation rule '${rule}' violated`);
      };
      return fn;
    },
  },
  /**
   * Free-form values (custom context, labels, attributes, bodies): no number beyond float64 and no nesting beyond
   * maxJsonDepth (json-bounds.ts). The message is the problem's name; validate.ts words it as APM Server would.
   */
  {
    keyword: 'apmBounded',
    schemaType: 'boolean',
    errors: true,
    compile() {
      const fn: DataValidateFunction = (data: unknown, context) => {
        if (data === null || (typeof data !== 'object' && typeof data !== 'number')) return true;
        // The value's own nesting level: one per segment of its path below the line's object (level 1).
        const path = context?.instancePath ?? '';
        let level = 1;
        for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) level++;
        const problem = boundsProblem(data, level);
        return problem === null ? true : fail(fn, 'apmBounded', problem);
      };
      return fn;
    },
  },
  /** A subtree compiled as a function of its own (schema/split.ts): judged as if inline, errors not kept. */
  {
    keyword: 'apmSplit',
    schemaType: 'object',
    errors: false,
    compile(sub: SchemaNode, _parent: unknown, it: SchemaObjCxt) {
      const validate = it.self.compile(sub);
      return (data: unknown, context?: DataValidationCxt) => validate(data, context);
    },
  },
];

/** Registers every APM keyword on an ajv instance (maxLength replacing ajv's own); returns it. */
export function addApmKeywords(ajv: Ajv): Ajv {
  ajv.removeKeyword('maxLength');
  for (const definition of apmKeywords) ajv.addKeyword(definition);
  return ajv;
}
