import { arr, labels, mapOf, num, obj, patterns, root, type SchemaNode, str, text, timestamp } from './builders';
import { faas } from './shared';

/** `{"metricset": {...}}` (APM Server intake v2 metricset rules). */

const sample = (): SchemaNode =>
  obj(
    {
      type: text(),
      unit: text(),
      values: arr({ type: 'number' }),
      counts: arr({ type: 'integer', minimum: 0 }),
      value: num(),
    },
    { anyOf: ['value', 'values'], requiredIfAny: { values: ['counts'], counts: ['values'] } },
  );

export const metricsetSchema: SchemaNode = root(
  'metricset',
  obj(
    {
      timestamp: timestamp(),
      samples: mapOf(sample(), patterns.patternNoAsteriskQuote),
      span: obj({ subtype: str(), type: str() }),
      tags: labels(),
      transaction: obj({ name: str(), type: str() }),
      service: obj({ name: str(), version: str() }),
      faas: faas(),
    },
    { required: ['samples'] },
  ),
);
