import { int, labels, obj, root, type SchemaNode, str, text, timestamp } from './builders';
import { faas } from './shared';

/**
 * `{"log": {...}}` (APM Server intake v2 log rules). ECS fields come dotted ("log.level") or nested
 * ({"log": {"level": ...}}); APM Server flattens the nested form first, so both carry the same rules.
 */

export const logSchema: SchemaNode = root(
  'log',
  obj({
    labels: labels(),
    '@timestamp': timestamp(),
    'trace.id': str(),
    'transaction.id': str(),
    'span.id': str(),
    message: text(),
    faas: faas(),
    'service.name': str(),
    'service.version': str(),
    'service.environment': str(),
    'service.node.name': str(),
    service: obj({ name: str(), version: str(), environment: str(), node: obj({ name: str() }) }),
    'error.type': text(),
    'error.message': text(),
    'error.stack_trace': text(),
    error: obj({ type: text(), message: text(), stack_trace: text() }),
    'event.dataset': str(),
    event: obj({ dataset: str() }),
    'process.thread.name': str(),
    process: obj({ thread: obj({ name: str() }) }),
    'log.level': str(),
    'log.logger': str(),
    'log.origin.file.name': str(),
    'log.origin.function': text(),
    'log.origin.file.line': int(),
    log: obj({
      level: str(),
      logger: str(),
      origin: obj({ file: obj({ name: str(), line: int() }), function: text() }),
    }),
  }),
);
