import { arr, bool, enumOutcome, int, num, obj, root, type SchemaNode, str, timestamp } from './builders';
import { context, faas, otel, spanLinks } from './shared';

/** `{"transaction": {...}}` (APM Server intake v2 transaction rules). */

const droppedSpansStats = (): SchemaNode =>
  arr(
    obj({
      destination_service_resource: str(),
      service_target_type: str({ maxLength: 512 }),
      service_target_name: str({ maxLength: 512 }),
      outcome: { ...str(), enum: enumOutcome },
      duration: obj({ count: int({ minimum: 1 }), sum: obj({ us: int({ minimum: 0 }) }) }),
    }),
    'dropped_spans_stats',
  );

const experience = (): SchemaNode =>
  obj({
    cls: num({ minimum: 0 }),
    fid: num({ minimum: 0 }),
    longtask: obj(
      { count: int({ minimum: 0 }), max: num({ minimum: 0 }), sum: num({ minimum: 0 }) },
      { required: ['count', 'max', 'sum'] },
    ),
    tbt: num({ minimum: 0 }),
  });

export const transactionSchema: SchemaNode = root(
  'transaction',
  obj(
    {
      // marks: {<group>: {<mark>: number}} (APM Server reads it with a custom decoder)
      marks: {
        type: ['object', 'null'],
        additionalProperties: { type: ['object', 'null'], additionalProperties: { type: ['number', 'null'] } },
      },
      timestamp: timestamp(),
      otel: otel(),
      links: spanLinks(),
      trace_id: str(),
      id: str(),
      parent_id: str(),
      name: str(),
      type: str(),
      result: str(),
      dropped_spans_stats: droppedSpansStats(),
      outcome: { ...str(), enum: enumOutcome },
      faas: faas(),
      session: obj({ id: str(), sequence: int({ minimum: 1 }) }, { required: ['id'] }),
      context: context(),
      experience: experience(),
      span_count: obj({ dropped: int(), started: int() }, { required: ['started'] }),
      sample_rate: num(),
      duration: num({ minimum: 0 }),
      sampled: bool(),
    },
    { required: ['trace_id', 'id', 'type', 'span_count', 'duration'] },
  ),
);
