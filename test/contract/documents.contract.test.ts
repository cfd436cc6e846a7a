import { errors } from '@elastic/elasticsearch';

import { createEsClient } from '../../elasticsearch/client';
import { apmIndexTemplates } from '../../elasticsearch/setup/templates';
import { esConnection } from '../support/es-target';
import { describeEachTarget, uniqueStream } from './targets';

type BulkItem = {
  status: number;
  _index: string;
  _id?: string | null;
  result?: string;
  error?: { type: string; reason?: string | null };
};

function firstItem(items: ReadonlyArray<Partial<Record<string, BulkItem>>>, i: number): BulkItem {
  const entry = items[i];
  const item = entry === undefined ? undefined : Object.values(entry)[0];
  if (item === undefined) throw new Error(`no bulk item ${i}`);
  return item;
}

function errorType(err: unknown): { status: number; type: unknown } {
  if (!(err instanceof errors.ResponseError)) throw err;
  const body: unknown = err.meta.body;
  const error = typeof body === 'object' && body !== null && 'error' in body ? body.error : undefined;
  return {
    status: err.meta.statusCode ?? 0,
    type: typeof error === 'object' && error !== null && 'type' in error ? error.type : error,
  };
}

const doc = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  '@timestamp': '2026-01-01T00:00:00.000Z',
  ...extra,
});

describeEachTarget('document calls', (kind, ctx) => {
  test('bulk create auto-creates a data stream; 201, then 409 on the same _id', async () => {
    const { target, principals } = ctx();
    const stream = uniqueStream('traces-apm');
    const writer = target.client(principals.writer);
    const body = [
      { create: { _index: stream, _id: 'a' } },
      doc({ n: 1 }),
      { create: { _index: stream, _id: 'a' } },
      doc({ n: 1 }),
    ];
    const res = await writer.bulk({ operations: body });
    expect(res.errors).toBe(true);
    const created = firstItem(res.items, 0);
    expect(created).toMatchObject({
      _id: 'a',
      status: 201,
      result: 'created',
      _version: 1,
      _seq_no: 0,
      _primary_term: 1,
    });
    expect(created._index).toMatch(new RegExp(`^\\.ds-${stream}-\\d{4}\\.\\d{2}\\.\\d{2}-000001$`));
    const conflict = firstItem(res.items, 1);
    expect(conflict).toMatchObject({
      _index: created._index,
      _id: 'a',
      status: 409,
      error: {
        type: 'version_conflict_engine_exception',
        reason: '[a]: version conflict, document already exists (current version [1])',
      },
    });
  });

  test('mapping conflicts are 400 document_parsing_exception, per item', async () => {
    const { target, principals } = ctx();
    const stream = uniqueStream('traces-apm');
    const writer = target.client(principals.writer);
    const res = await writer.bulk({
      operations: [
        { create: { _index: stream, _id: 'ok' } },
        doc({ numeric_labels: { a: 1 }, transaction: { duration: { us: 5 } } }),
        { create: { _index: stream, _id: 'bad-template' } },
        doc({ '@timestamp': 'not a date' }),
        { create: { _index: stream, _id: 'bad-earlier' } },
        doc({ transaction: { duration: { us: 'slow' } } }),
        { create: { _index: stream, _id: 'no-timestamp' } },
        { n: 1 },
        { index: { _index: stream, _id: 'index-op' } },
        doc(),
      ],
    });
    expect(firstItem(res.items, 0).status).toBe(201);
    expect(firstItem(res.items, 1)).toMatchObject({ status: 400, error: { type: 'document_parsing_exception' } });
    expect(firstItem(res.items, 1).error?.reason).toContain('failed to parse field [@timestamp] of type [date]');
    expect(firstItem(res.items, 2)).toMatchObject({ status: 400, error: { type: 'document_parsing_exception' } });
    expect(firstItem(res.items, 2).error?.reason).toContain(
      "failed to parse field [transaction.duration.us] of type [long] in document with id 'bad-earlier'",
    );
    expect(firstItem(res.items, 3).error?.reason).toContain('data stream timestamp field [@timestamp] is missing');
    expect(firstItem(res.items, 4)).toMatchObject({
      _index: stream,
      status: 400,
      error: {
        type: 'illegal_argument_exception',
        reason: 'only write ops with an op_type of create are allowed in data streams',
      },
    });
  });

  test('without create_doc anywhere the whole bulk is a 403; on another index it is a per-item 403', async () => {
    const { target, principals } = ctx();
    const stream = uniqueStream('traces-apm');
    const whole = await target
      .client(principals.noCreateDoc)
      .bulk({ operations: [{ create: { _index: stream, _id: 'x' } }, doc()] })
      .catch(errorType);
    expect(whole).toEqual({ status: 403, type: 'security_exception' });
    const writer = target.client(principals.writer);
    const denied = (action: string, index: string, granted: string): string =>
      `action [${action}] is unauthorized for user [apm_sidecar_test_writer] with effective roles [apm_sidecar_test_writer_role] on indices [${index}], this action is granted by the index privileges [${granted}]`;
    const missing = firstItem(
      (await writer.bulk({ operations: [{ create: { _index: 'not-apm-data', _id: 'y' } }, doc()] })).items,
      0,
    );
    expect(missing).toMatchObject({
      _index: 'not-apm-data',
      _id: 'y',
      status: 403,
      error: { type: 'security_exception' },
    });
    expect(missing.error?.reason).toBe(
      denied('indices:admin/auto_create', 'not-apm-data', 'auto_configure,create_index,manage,all'),
    );
    await target
      .client()
      .indices.create({ index: 'not-apm-data-existing' })
      .catch(() => undefined);
    const existing = firstItem(
      (await writer.bulk({ operations: [{ create: { _index: 'not-apm-data-existing', _id: 'z' } }, doc()] })).items,
      0,
    );
    expect(existing).toMatchObject({
      _index: 'not-apm-data-existing',
      _id: 'z',
      status: 403,
      error: { type: 'security_exception' },
    });
    expect(existing.error?.reason).toBe(
      denied('indices:data/write/bulk[s]', 'not-apm-data-existing', 'create_doc,create,delete,index,write,all'),
    );
  });

  test('gzip request bodies and filter_path', async () => {
    const { target, principals } = ctx();
    const stream = uniqueStream('logs-apm.error');
    const gzipClient = target.client(principals.writerApiKey);
    const gz = target.output(principals.writerApiKey);
    const client = createEsClient(esConnection(gz), { compression: true });
    try {
      const res = await client.bulk({
        operations: [{ create: { _index: stream, _id: 'g' } }, doc()],
        filter_path: 'errors,items.*.status,items.*.error',
      });
      expect(res).toEqual({ errors: false, items: [{ create: { status: 201 } }] });
    } finally {
      await client.close();
      await gzipClient.close();
    }
  });

  test('refresh, count and search read documents back; reader may read, writer may not', async () => {
    const { target, principals } = ctx();
    const stream = uniqueStream('metrics-apm.internal');
    const admin = target.client();
    await target.client(principals.writer).bulk({
      operations: [
        { create: { _index: stream, _id: 'm1' } },
        doc({ service: { name: 'svc' } }),
        { create: { _index: stream, _id: 'm2' } },
        doc({ service: { name: 'other' } }),
      ],
    });
    await admin.indices.refresh({ index: stream });
    expect((await admin.count({ index: stream })).count).toBe(2);
    const found = await target
      .client(principals.reader)
      .search({ index: stream, query: { term: { 'service.name': 'svc' } }, size: 5 });
    expect(found.hits.total).toEqual({ value: 1, relation: 'eq' });
    expect(found.hits.hits[0]).toMatchObject({ _id: 'm1', _source: doc({ service: { name: 'svc' } }) });
    await expect(target.client(principals.writer).search({ index: stream }).catch(errorType)).resolves.toEqual({
      status: 403,
      type: 'security_exception',
    });
  });

  test('dynamic strings are text + keyword: term on text matches tokens, on .keyword the whole value', async () => {
    const { target } = ctx();
    const admin = target.client();
    const index = `apm-sidecar-contract-text-${Date.now().toString(36)}`;
    await admin.index({ index, id: '1', document: { name: 'Svc-Alpha' }, refresh: true });
    const hits = async (query: Record<string, unknown>): Promise<number> =>
      (await admin.search({ index, query })).hits.hits.length;
    expect(await hits({ term: { name: 'Svc-Alpha' } })).toBe(0);
    expect(await hits({ term: { name: 'alpha' } })).toBe(1);
    expect(await hits({ term: { 'name.keyword': 'Svc-Alpha' } })).toBe(1);
    expect(await hits({ match: { name: 'svc' } })).toBe(1);
    await admin.indices.delete({ index });
  });

  test('index and component templates: put, get, exists, delete', async () => {
    const { target } = ctx();
    const admin = target.client();
    const [first] = apmIndexTemplates();
    if (first === undefined) throw new Error('no templates');
    expect(
      await admin.cluster.putComponentTemplate({
        name: 'apm-sidecar-test-component',
        template: { settings: { number_of_shards: 1 } },
      }),
    ).toEqual({ acknowledged: true });
    const component = await admin.cluster.getComponentTemplate({ name: 'apm-sidecar-test-component' });
    expect(component.component_templates[0]?.name).toBe('apm-sidecar-test-component');
    const name = 'apm-sidecar-test-template';
    const put = await admin.indices.putIndexTemplate({
      name,
      ...first.body,
      index_patterns: ['apm-sidecar-contract-*'],
      composed_of: ['apm-sidecar-test-component'],
    });
    expect(put).toEqual({ acknowledged: true });
    const got = await admin.indices.getIndexTemplate({ name });
    expect(got.index_templates[0]).toMatchObject({
      name,
      index_template: {
        index_patterns: ['apm-sidecar-contract-*'],
        priority: first.body.priority,
        version: first.body.version,
        _meta: first.body._meta,
        composed_of: ['apm-sidecar-test-component'],
      },
    });
    expect(await admin.indices.existsIndexTemplate({ name })).toBe(true);
    expect(await admin.indices.deleteIndexTemplate({ name })).toEqual({ acknowledged: true });
    expect(await admin.indices.existsIndexTemplate({ name })).toBe(false);
    await expect(admin.indices.getIndexTemplate({ name }).catch(errorType)).resolves.toEqual({
      status: 404,
      type: 'resource_not_found_exception',
    });
    await admin.cluster.deleteComponentTemplate({ name: 'apm-sidecar-test-component' });
  });

  test('ILM policy: put and get (where the cluster has ILM)', async () => {
    const { target } = ctx();
    if (target.lacks.has('ilm')) return;
    const admin = target.client();
    const policy = { phases: { hot: { actions: { rollover: { max_age: '30d', max_primary_shard_size: '50gb' } } } } };
    expect(await admin.ilm.putLifecycle({ name: 'apm-sidecar-test-policy', policy })).toEqual({ acknowledged: true });
    const got = await admin.ilm.getLifecycle({ name: 'apm-sidecar-test-policy' });
    expect(got['apm-sidecar-test-policy']).toMatchObject({ version: 1, policy });
  });

  test('search of .apm-agent-configuration (shared, never deleted): a term query finds the service; a missing index is 404', async () => {
    const { target } = ctx();
    const admin = target.client();
    await expect(
      admin.search({ index: '.apm-agent-configuration-missing', query: { match_all: {} } }).catch(errorType),
    ).resolves.toEqual({ status: 404, type: 'index_not_found_exception' });
    // Kibana creates this index with keyword fields; a dynamically mapped one would make service.name text.
    const mappings = {
      properties: {
        service: { properties: { name: { type: 'keyword' }, environment: { type: 'keyword' } } },
        etag: { type: 'keyword' },
        applied_by_agent: { type: 'boolean' },
        '@timestamp': { type: 'date' },
      },
    } as const;
    await admin.indices.create({ index: '.apm-agent-configuration', mappings }, { ignore: [400] });
    const service = `svc-${Date.now().toString(36)}`;
    await admin.index({
      index: '.apm-agent-configuration',
      id: service,
      document: {
        service: { name: service, environment: 'prod' },
        settings: { transaction_sample_rate: '0.5' },
        applied_by_agent: false,
        etag: 'e1',
        '@timestamp': 1,
      },
    });
    await admin.indices.refresh({ index: '.apm-agent-configuration' });
    const res = await admin.search({
      index: '.apm-agent-configuration',
      size: 1,
      query: { bool: { filter: [{ term: { 'service.name': service } }] } },
    });
    expect(res.hits.hits[0]).toMatchObject({
      _index: '.apm-agent-configuration',
      _id: service,
      _source: { etag: 'e1' },
    });
    void kind;
  });
});
