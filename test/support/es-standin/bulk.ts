import crypto from 'node:crypto';

import { type RequestContext, type RouteResult, subject } from './context';
import { badRequest } from './es-errors';
import { forbidden, unauthorizedReason } from './es-errors';
import type { Counters, FaultPlan, ItemRejector } from './faults';
import { isObject, type JsonObject, parseJsonObject } from './json';
import { DocumentRejected, type ItemError } from './mappings';
import { allowsIndex } from './privileges';

interface BulkOperation {
  readonly op: 'create' | 'index' | 'delete' | 'update';
  readonly index: string;
  readonly id: string | undefined;
  readonly source: JsonObject | undefined;
  /** The action's dynamic_templates: field -> template name. */
  readonly dynamicTemplates: Record<string, string>;
}

const writePrivileges = ['create_doc', 'create', 'index', 'write', 'all'];
const bulkPrivileges = ['create_doc', 'create', 'delete', 'index', 'write', 'all'];
const autoCreatePrivileges = ['auto_configure', 'create_index', 'manage', 'all'];

function parseOperations(body: Buffer, defaultIndex: string | undefined): BulkOperation[] {
  const lines = body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const ops: BulkOperation[] = [];
  for (let i = 0; i < lines.length; i++) {
    const action = parseJsonObject(lines[i] ?? '', 'bulk action');
    const [op, meta] = Object.entries(action)[0] ?? [];
    if (op !== 'create' && op !== 'index' && op !== 'delete' && op !== 'update') {
      throw badRequest(
        'illegal_argument_exception',
        `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update] but found [${String(op)}]`,
      );
    }
    const fields = isObject(meta) ? meta : {};
    const index = typeof fields['_index'] === 'string' ? fields['_index'] : defaultIndex;
    if (index === undefined)
      throw badRequest('action_request_validation_exception', 'Validation Failed: 1: index is missing;');
    const id = typeof fields['_id'] === 'string' ? fields['_id'] : undefined;
    const source = op === 'delete' ? undefined : parseJsonObject(lines[++i] ?? '', 'bulk source');
    const named: Record<string, string> = {};
    const requested = fields['dynamic_templates'];
    if (isObject(requested))
      for (const [field, name] of Object.entries(requested)) if (typeof name === 'string') named[field] = name;
    ops.push({ op, index, id, source, dynamicTemplates: named });
  }
  return ops;
}

function failure(
  op: BulkOperation,
  index: string,
  id: string,
  status: number,
  error: ItemError,
): Record<string, unknown> {
  return { [op.op]: { _index: index, _id: id, status, error } };
}

function denied(
  ctx: RequestContext,
  op: BulkOperation,
  id: string,
  action: string,
  privileges: string[],
): Record<string, unknown> {
  const reason = unauthorizedReason(
    action,
    subject(ctx.principal),
    ctx.principal.roles,
    op.index,
    privileges.join(','),
  );
  return failure(op, op.index, id, 403, { type: 'security_exception', reason });
}

const builtinApmPatterns = /^(traces-apm|logs-apm|metrics-apm)/;

/** `require_data_stream=true` and the target is neither a data stream nor one a template would create. */
function notADataStream(
  ctx: RequestContext,
  op: BulkOperation,
  faults: FaultPlan,
): Record<string, unknown> | undefined {
  if (ctx.query.get('require_data_stream') !== 'true' || ctx.store.dataStreams.has(op.index)) return undefined;
  const template = ctx.store.matchingTemplate(op.index);
  if (template !== undefined && isObject(template[1]['data_stream'])) return undefined;
  if (faults.missingApmTemplates !== true && builtinApmPatterns.test(op.index)) return undefined;
  return failure(op, op.index, op.id ?? '', 404, {
    type: 'index_not_found_exception',
    reason: `no such index [${op.index}] and [require_data_stream] request flag is [true] and [${op.index}] is not a data stream`,
    index: op.index,
  });
}

function executeOne(
  ctx: RequestContext,
  op: BulkOperation,
  reject: boolean,
  faults: FaultPlan,
): Record<string, unknown> {
  const id = op.id ?? crypto.randomBytes(15).toString('base64url').slice(0, 20);
  const refused = notADataStream(ctx, op, faults);
  if (refused !== undefined) return refused;
  const layers = ctx.principal.layers;
  // As in Elasticsearch, auto-creation is authorized before the shard-level write.
  const exists = ctx.store.writeIndexFor(op.index, false) !== undefined;
  if (!exists && !autoCreatePrivileges.some((p) => allowsIndex(layers, op.index, p))) {
    return denied(ctx, op, id, 'indices:admin/auto_create', autoCreatePrivileges);
  }
  if (!writePrivileges.some((p) => allowsIndex(layers, op.index, p))) {
    return denied(ctx, op, id, 'indices:data/write/bulk[s]', bulkPrivileges);
  }
  if (reject) {
    // A shard-level rejection names the concrete (backing) index, as the real node does.
    return failure(op, ctx.store.writeIndexFor(op.index, false)?.name ?? op.index, id, 429, {
      type: 'es_rejected_execution_exception',
      reason:
        'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_primary_bytes=53687091]',
    });
  }
  if (op.op !== 'create' && op.op !== 'index') {
    return failure(op, op.index, id, 400, {
      type: 'illegal_argument_exception',
      reason: `the stand-in does not implement bulk ${op.op}`,
    });
  }
  const target = ctx.store.writeIndexFor(op.index, true);
  if (target === undefined)
    return failure(op, op.index, id, 404, { type: 'index_not_found_exception', reason: `no such index [${op.index}]` });
  if (op.op === 'index' && target.dataStream !== undefined) {
    return failure(op, op.index, id, 400, {
      type: 'illegal_argument_exception',
      reason: 'only write ops with an op_type of create are allowed in data streams',
    });
  }
  try {
    const existed = target.docs.has(id);
    const result = ctx.store.put(target, id, op.source ?? {}, op.op, op.dynamicTemplates);
    const updated = existed && op.op === 'index';
    return {
      [op.op]: {
        _index: result.index,
        _id: id,
        _version: 1,
        result: updated ? 'updated' : 'created',
        _shards: { total: 1 + result.replicas, successful: 1, failed: 0 },
        _seq_no: result.seqNo,
        _primary_term: 1,
        status: updated ? 200 : 201,
      },
    };
  } catch (err) {
    if (err instanceof DocumentRejected) return failure(op, target.name, id, err.status, err.error);
    throw err;
  }
}

/** `_bulk`: per-item results shaped as Elasticsearch shapes them, with item-level 429s on demand. */
export function bulk(ctx: RequestContext, faults: FaultPlan, rejector: ItemRejector, counters: Counters): RouteResult {
  const started = Date.now();
  const ops = parseOperations(ctx.body, ctx.params['index']);
  // Elasticsearch first authorizes the bulk as a whole: without any write privilege on any index it is a 403.
  const mayWriteSomewhere = ctx.principal.layers.every((layer) =>
    layer.some((role) => role.indices.some((entry) => entry.privileges.some((p) => bulkPrivileges.includes(p)))),
  );
  if (!mayWriteSomewhere) {
    throw forbidden(
      unauthorizedReason(
        'indices:data/write/bulk',
        subject(ctx.principal),
        ctx.principal.roles,
        undefined,
        bulkPrivileges.join(','),
        'index',
      ),
    );
  }
  counters.bulkRequests += 1;
  const items = ops.map((op) => executeOne(ctx, op, rejector.reject(faults.bulkItemRejectShare), faults));
  let errors = false;
  for (const item of items) {
    const result = Object.values(item)[0];
    const status = isObject(result) && typeof result['status'] === 'number' ? result['status'] : 0;
    counters.itemsByStatus[String(status)] = (counters.itemsByStatus[String(status)] ?? 0) + 1;
    if (status >= 300) errors = true;
  }
  ctx.changed();
  return { status: 200, body: { errors, took: Date.now() - started, items } };
}
