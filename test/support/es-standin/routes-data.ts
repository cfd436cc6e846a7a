import {
  jsonBody,
  ok,
  type RequestContext,
  requireCluster,
  requireIndex,
  type Route,
  route,
  type RouteResult,
} from './context';
import { badRequest, notFound } from './es-errors';
import { isObject, type JsonObject, optionalObject } from './json';
import { findHits, shardsHeader } from './search';
import type { StoredIndex } from './store';

export const standinVersion = '8.19.21';

function info(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['monitor'], 'cluster:monitor/main');
  return ok({
    name: 'es-standin',
    cluster_name: 'es-standin',
    cluster_uuid: 'c2RhbmRpbi1jbHVzdGVy',
    version: {
      number: standinVersion,
      build_flavor: 'default',
      build_type: 'tar',
      build_hash: 'standin',
      build_date: '2025-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '9.12.2',
      minimum_wire_compatibility_version: '7.17.0',
      minimum_index_compatibility_version: '7.0.0',
    },
    tagline: 'You Know, for Search',
  });
}

/** Modules of a default distribution that setup's capability check looks for (apm-data left out: no APM templates here). */
const standinModules = [
  'aggregations',
  'analysis-common',
  'constant-keyword',
  'data-streams',
  'ingest-common',
  'mapper-extras',
  'transport-netty4',
  'x-pack-core',
  'x-pack-ilm',
  'x-pack-security',
];

function nodesInfo(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['monitor'], 'cluster:monitor/nodes/info');
  return ok({
    _nodes: { total: 1, successful: 1, failed: 0 },
    cluster_name: 'es-standin',
    nodes: {
      c3RhbmRpbi1ub2RlLWlkMA: {
        name: 'es-standin',
        version: standinVersion,
        roles: ['data', 'ingest', 'master'],
        modules: standinModules.map((name) => ({
          name,
          version: standinVersion,
          elasticsearch_version: standinVersion,
          java_version: '17',
          description: name,
          classname: '',
          extended_plugins: [],
          has_native_controller: false,
          licensed: false,
          is_official: true,
        })),
      },
    },
  });
}

function health(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['monitor'], 'cluster:monitor/health');
  return ok({
    cluster_name: 'es-standin',
    status: 'green',
    timed_out: false,
    number_of_nodes: 1,
    number_of_data_nodes: 1,
  });
}

/** Settings as Elasticsearch returns them: under `index`, nested, values as strings. */
function normalizeSettings(settings: JsonObject): JsonObject {
  const flat: Array<[string, unknown]> = [];
  const walk = (obj: JsonObject, prefix: string): void => {
    for (const [key, value] of Object.entries(obj)) {
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (isObject(value)) walk(value, path);
      else
        flat.push([
          path.startsWith('index.') ? path : `index.${path}`,
          Array.isArray(value) ? value.map(String) : String(value),
        ]);
    }
  };
  walk(settings, '');
  const nested: Record<string, unknown> = {};
  for (const [path, value] of flat) {
    const keys = path.split('.');
    let node = nested;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      node = isObject(next) ? next : (node[key] = {});
    }
    node[keys[keys.length - 1] ?? ''] = value;
  }
  return nested;
}

/** A component template (or the `template` part of an index template) with its settings normalized. */
function normalizeTemplate(body: JsonObject): JsonObject {
  const template = optionalObject(body, 'template');
  const settings = template !== undefined ? optionalObject(template, 'settings') : undefined;
  if (template === undefined || settings === undefined) return body;
  return { ...body, template: { ...template, settings: normalizeSettings(settings) } };
}

/** What the real node stores for an index template: composed_of defaulted, data_stream options filled in. */
function normalizeIndexTemplate(body: JsonObject): JsonObject {
  const dataStream = optionalObject(body, 'data_stream');
  return {
    ...normalizeTemplate(body),
    composed_of: Array.isArray(body['composed_of']) ? body['composed_of'] : [],
    ...(dataStream !== undefined ? { data_stream: { hidden: false, allow_custom_routing: false, ...dataStream } } : {}),
  };
}

/** PUT/GET/DELETE for one kind of named template-like object (index templates, component templates). */
function templateRoutes(
  prefix: string,
  map: (ctx: RequestContext) => Map<string, JsonObject>,
  listKey: string,
  itemKey: string,
  label: string,
): Route[] {
  const action = `cluster:admin/${prefix === '_index_template' ? 'index_template' : 'component_template'}`;
  return [
    route('PUT|POST', `/${prefix}/:name`, (ctx) => {
      requireCluster(ctx, ['manage_index_templates'], `indices:admin/${action.split('/')[1] ?? ''}/put`);
      if (ctx.query.get('create') === 'true' && map(ctx).has(ctx.params['name'] ?? '')) {
        throw badRequest('illegal_argument_exception', `${label} [${ctx.params['name'] ?? ''}] already exists`);
      }
      map(ctx).set(
        ctx.params['name'] ?? '',
        prefix === '_index_template' ? normalizeIndexTemplate(jsonBody(ctx)) : normalizeTemplate(jsonBody(ctx)),
      );
      ctx.changed();
      return ok({ acknowledged: true });
    }),
    route('GET|HEAD', `/${prefix}/:name?`, (ctx) => {
      requireCluster(ctx, ['manage_index_templates', 'monitor'], `${action}/get`);
      const wanted = ctx.params['name'];
      const found = [...map(ctx)].filter(
        ([name]) =>
          wanted === undefined ||
          name === wanted ||
          (wanted.includes('*') && new RegExp(`^${wanted.replace(/\*/g, '.*')}$`).test(name)),
      );
      if (wanted !== undefined && found.length === 0) {
        if (ctx.method === 'HEAD') return ok(undefined, 404);
        // The real node: a wildcard matching nothing is a 404 with an empty list, a name a 404 error.
        if (wanted.includes('*')) return ok({ [listKey]: [] }, 404);
        throw notFound('resource_not_found_exception', `${label} matching [${wanted}] not found`);
      }
      return ok(
        ctx.method === 'HEAD' ? undefined : { [listKey]: found.map(([name, body]) => ({ name, [itemKey]: body })) },
      );
    }),
    route('DELETE', `/${prefix}/:name`, (ctx) => {
      requireCluster(ctx, ['manage_index_templates'], `${action}/delete`);
      const name = ctx.params['name'] ?? '';
      if (!map(ctx).delete(name))
        throw notFound('resource_not_found_exception', `${label} matching [${name}] not found`);
      ctx.changed();
      return ok({ acknowledged: true });
    }),
  ];
}

function putPolicy(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['manage_ilm'], 'cluster:admin/ilm/put');
  const name = ctx.params['name'] ?? '';
  const policy = optionalObject(jsonBody(ctx), 'policy') ?? {};
  const version = (ctx.store.ilmPolicies.get(name)?.version ?? 0) + 1;
  ctx.store.ilmPolicies.set(name, { policy, version, modified: new Date().toISOString() });
  ctx.changed();
  return ok({ acknowledged: true });
}

function getPolicy(ctx: RequestContext): RouteResult {
  requireCluster(ctx, ['read_ilm', 'manage_ilm'], 'cluster:admin/ilm/get');
  const wanted = ctx.params['name'];
  const out: Record<string, unknown> = {};
  for (const [name, p] of ctx.store.ilmPolicies) {
    if (wanted !== undefined && name !== wanted) continue;
    out[name] = {
      version: p.version,
      modified_date: p.modified,
      policy: p.policy,
      in_use_by: { indices: [], data_streams: [], composable_templates: [] },
    };
  }
  if (wanted !== undefined && Object.keys(out).length === 0) {
    throw notFound('resource_not_found_exception', `Lifecycle policy not found: ${wanted}`);
  }
  return ok(out);
}

function readable(ctx: RequestContext, action: string, privileges: string[]): StoredIndex[] {
  const expression = ctx.params['index'] ?? '_all';
  const indices = ctx.store.resolve(expression, ctx.query.get('ignore_unavailable') === 'true');
  for (const part of expression.split(','))
    if (!part.includes('*') && part !== '_all') requireIndex(ctx, part, privileges, action);
  return indices.filter((i) => allowedIndex(ctx, i, privileges));
}

function allowedIndex(ctx: RequestContext, index: StoredIndex, privileges: string[]): boolean {
  return [index.name, index.dataStream].some(
    (name) => name !== undefined && privileges.some((p) => requireSilently(ctx, name, p)),
  );
}

function requireSilently(ctx: RequestContext, name: string, privilege: string): boolean {
  try {
    requireIndex(ctx, name, [privilege], 'check');
    return true;
  } catch {
    return false;
  }
}

function search(ctx: RequestContext): RouteResult {
  const indices = readable(ctx, 'indices:data/read/search', ['read']);
  const body = jsonBody(ctx);
  const sizeParam = ctx.query.get('size');
  const size = sizeParam !== null ? Number(sizeParam) : typeof body['size'] === 'number' ? body['size'] : 10;
  const hits = findHits(indices, optionalObject(body, 'query'));
  return ok({
    took: 1,
    timed_out: false,
    _shards: shardsHeader(indices),
    hits: {
      total: { value: hits.length, relation: 'eq' },
      max_score: hits.length > 0 ? 1 : null,
      hits: hits.slice(0, size),
    },
  });
}

function count(ctx: RequestContext): RouteResult {
  const indices = readable(ctx, 'indices:data/read/search', ['read']);
  const hits = findHits(indices, optionalObject(jsonBody(ctx), 'query'));
  return ok({ count: hits.length, _shards: shardsHeader(indices) });
}

/** The stand-in makes documents visible at once; refresh only answers as Elasticsearch does. */
function refresh(ctx: RequestContext): RouteResult {
  const indices = readable(ctx, 'indices:admin/refresh', ['maintenance', 'manage']);
  const total = indices.reduce((n, i) => n + 1 + i.replicas, 0);
  return ok({ _shards: { total, successful: indices.length, failed: 0 } });
}

function dataStreams(ctx: RequestContext): RouteResult {
  const wanted = ctx.params['name'];
  const streams = [...ctx.store.dataStreams.values()].filter(
    (s) =>
      wanted === undefined ||
      wanted === s.name ||
      (wanted.includes('*') && new RegExp(`^${wanted.replace(/\*/g, '.*')}$`).test(s.name)),
  );
  if (wanted !== undefined && !wanted.includes('*') && streams.length === 0)
    throw notFound('index_not_found_exception', `no such index [${wanted}]`);
  for (const s of streams)
    requireIndex(ctx, s.name, ['view_index_metadata', 'manage'], 'indices:admin/data_stream/get');
  return ok({
    data_streams: streams.map((s) => ({
      name: s.name,
      timestamp_field: { name: '@timestamp' },
      indices: s.backingIndices.map((b) => ({ index_name: b, index_uuid: ctx.store.indices.get(b)?.uuid ?? '' })),
      generation: s.backingIndices.length,
      status: 'GREEN',
      template: s.template,
      hidden: false,
      system: false,
      allow_custom_routing: false,
      replicated: false,
    })),
  });
}

function createIndex(ctx: RequestContext): RouteResult {
  const name = ctx.params['index'] ?? '';
  requireIndex(ctx, name, ['create_index', 'manage'], 'indices:admin/create');
  if (ctx.store.indices.has(name)) {
    throw badRequest(
      'resource_already_exists_exception',
      `index [${name}/${ctx.store.indices.get(name)?.uuid ?? ''}] already exists`,
    );
  }
  const body = jsonBody(ctx);
  ctx.store.createIndex(name, undefined, {
    template: { mappings: optionalObject(body, 'mappings') ?? {}, settings: optionalObject(body, 'settings') ?? {} },
  });
  ctx.changed();
  return ok({ acknowledged: true, shards_acknowledged: true, index: name });
}

function deleteIndex(ctx: RequestContext): RouteResult {
  const name = ctx.params['index'] ?? '';
  requireIndex(ctx, name, ['delete_index', 'manage'], 'indices:admin/delete');
  const stream = ctx.store.dataStreams.get(name);
  const targets = stream !== undefined ? [] : ctx.store.resolve(name, ctx.query.get('ignore_unavailable') === 'true');
  for (const index of targets) ctx.store.indices.delete(index.name);
  ctx.changed();
  return ok({ acknowledged: true });
}

function putDocument(ctx: RequestContext): RouteResult {
  const name = ctx.params['index'] ?? '';
  const opType = ctx.path.includes('/_create/') || ctx.query.get('op_type') === 'create' ? 'create' : 'index';
  requireIndex(
    ctx,
    name,
    opType === 'create' ? ['create_doc', 'create', 'index', 'write'] : ['index', 'write'],
    'indices:data/write/index',
  );
  const id = ctx.params['id'] ?? Math.random().toString(36).slice(2);
  const target = ctx.store.writeIndexFor(name, true);
  if (target === undefined) throw notFound('index_not_found_exception', `no such index [${name}]`);
  const existed = target.docs.has(id);
  const result = ctx.store.put(target, id, jsonBody(ctx), opType);
  ctx.changed();
  return ok(
    {
      _index: result.index,
      _id: id,
      _version: 1,
      result: existed ? 'updated' : 'created',
      _shards: { total: 1 + result.replicas, successful: 1, failed: 0 },
      _seq_no: result.seqNo,
      _primary_term: 1,
    },
    existed ? 200 : 201,
  );
}

function getDocument(ctx: RequestContext): RouteResult {
  const name = ctx.params['index'] ?? '';
  requireIndex(ctx, name, ['read'], 'indices:data/read/get');
  const index = ctx.store.resolve(name)[0];
  const id = ctx.params['id'] ?? '';
  const doc = index?.docs.get(id);
  if (index === undefined || doc === undefined) return ok({ _index: index?.name ?? name, _id: id, found: false }, 404);
  return ok({
    _index: index.name,
    _id: id,
    _version: 1,
    _seq_no: doc.seqNo,
    _primary_term: 1,
    found: true,
    _source: doc.source,
  });
}

export const dataRoutes: Route[] = [
  route('GET|HEAD', '/', info),
  route('GET', '/_cluster/health', health),
  route('GET', '/_nodes', nodesInfo),
  ...templateRoutes(
    '_index_template',
    (ctx) => ctx.store.indexTemplates,
    'index_templates',
    'index_template',
    'index template',
  ),
  ...templateRoutes(
    '_component_template',
    (ctx) => ctx.store.componentTemplates,
    'component_templates',
    'component_template',
    'component template',
  ),
  route('PUT', '/_ilm/policy/:name', putPolicy),
  route('GET', '/_ilm/policy/:name?', getPolicy),
  route('GET', '/_data_stream/:name?', dataStreams),
  route('GET|POST', '/_search', search),
  route('GET|POST', '/:index/_search', search),
  route('GET|POST', '/_count', count),
  route('GET|POST', '/:index/_count', count),
  route('GET|POST', '/_refresh', refresh),
  route('GET|POST', '/:index/_refresh', refresh),
  route('PUT|POST', '/:index/_doc/:id', putDocument),
  route('POST', '/:index/_doc', putDocument),
  route('PUT|POST', '/:index/_create/:id', putDocument),
  route('GET', '/:index/_doc/:id', getDocument),
  route('PUT', '/:index', createIndex),
  route('DELETE', '/:index', deleteIndex),
];
