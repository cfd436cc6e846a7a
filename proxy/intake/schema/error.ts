import {
  anyValue,
  arr,
  bool,
  freeObject,
  obj,
  root,
  type SchemaNode,
  str,
  stringOrInt,
  text,
  timestamp,
} from './builders';
import { context, stacktrace } from './shared';

/** `{"error": {...}}` (APM Server intake v2 error rules). */

/** An exception and its causes (a recursive structure: causes are exceptions; checked two levels deep). */
function exception(depth: number): SchemaNode {
  return obj(
    {
      attributes: freeObject(),
      code: stringOrInt(),
      cause: depth > 0 ? arr(exception(depth - 1), 'cause') : arr(anyValue()),
      stacktrace: stacktrace(),
      message: text(),
      module: str(),
      type: str(),
      handled: bool(),
    },
    { anyOf: ['message', 'type'] },
  );
}

export const errorSchema: SchemaNode = root(
  'error',
  obj(
    {
      timestamp: timestamp(),
      log: obj(
        {
          level: str(),
          logger_name: str(),
          message: text(),
          param_message: str(),
          stacktrace: stacktrace(),
        },
        { required: ['message'] },
      ),
      culprit: str(),
      id: str(),
      parent_id: str(),
      trace_id: str(),
      transaction_id: str(),
      exception: exception(3),
      transaction: obj({ name: str(), type: str(), sampled: bool() }),
      context: context(),
    },
    {
      anyOf: ['exception', 'log'],
      required: ['id'],
      requiredIfAny: { parent_id: ['transaction_id', 'trace_id'], trace_id: ['transaction_id', 'parent_id'] },
    },
  ),
);
