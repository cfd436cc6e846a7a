import {
  anyValue,
  arr,
  bool,
  enumOutcome,
  headers,
  int,
  labels,
  num,
  obj,
  root,
  type SchemaNode,
  str,
  text,
  timestamp,
} from './builders';
import { contextMessage, contextService, otel, spanLinks, stacktrace } from './shared';

/** `{"span": {...}}` (APM Server intake v2 span rules). */

const spanContext = (): SchemaNode =>
  obj({
    tags: labels(),
    service: contextService(),
    message: contextMessage(),
    db: obj({
      instance: text(),
      link: str(),
      statement: text(),
      type: text(),
      user: text(),
      rows_affected: int(),
    }),
    destination: obj({
      service: obj({ name: str(), resource: str(), type: str() }, { required: ['resource'] }),
      address: str(),
      port: int(),
    }),
    http: obj({
      request: obj({ body: anyValue(), id: text() }),
      method: str(),
      url: text(),
      response: obj({
        headers: headers(),
        decoded_body_size: int(),
        encoded_body_size: int(),
        status_code: int(),
        transfer_size: int(),
      }),
      status_code: int(),
    }),
  });

export const spanSchema: SchemaNode = root(
  'span',
  obj(
    {
      timestamp: timestamp(),
      otel: otel(),
      id: str(),
      trace_id: str(),
      action: str(),
      name: str(),
      outcome: { ...str(), enum: enumOutcome },
      child_ids: arr({ type: 'string', maxLength: 1024 }),
      parent_id: str(),
      links: spanLinks(),
      stacktrace: stacktrace(),
      type: str(),
      subtype: str(),
      transaction_id: str(),
      composite: obj(
        { compression_strategy: text(), count: int({ minimum: 2 }), sum: num({ minimum: 0 }) },
        { required: ['compression_strategy', 'count', 'sum'] },
      ),
      context: spanContext(),
      start: num(),
      sample_rate: num(),
      duration: num({ minimum: 0 }),
      sync: bool(),
    },
    { anyOf: ['start', 'timestamp'], required: ['id', 'trace_id', 'name', 'parent_id', 'type', 'duration'] },
  ),
);
