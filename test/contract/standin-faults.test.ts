import { type Client, errors } from '@elastic/elasticsearch';

import { provisionTestPrincipals, type TestPrincipals } from '../support/elasticsearch/principals';
import { StandinProcess } from '../support/es-standin/process';
import { EsStandin } from '../support/es-standin/server';
import { type EsTarget, makeTarget, startStandinTarget } from '../support/es-target';

const doc = { '@timestamp': '2026-01-01T00:00:00.000Z' };

function operations(stream: string, ids: string[]): unknown[] {
  return ids.flatMap((id) => [{ create: { _index: stream, _id: id } }, doc]);
}

function statuses(items: ReadonlyArray<Partial<Record<string, { status: number }>>>): number[] {
  return items.map((i) => Object.values(i)[0]?.status ?? 0);
}

describe('stand-in faults (in process)', () => {
  let target: EsTarget;
  let standin: EsStandin;
  let principals: TestPrincipals;
  let writer: Client;

  beforeAll(async () => {
    target = await startStandinTarget();
    if (target.standin === undefined) throw new Error('no stand-in');
    standin = target.standin;
    principals = await provisionTestPrincipals(target);
    writer = target.client(principals.writer);
  });
  afterAll(async () => {
    await target.close();
  });
  beforeEach(() => {
    standin.setFaults({});
    standin.resetCounters();
  });

  test('a share of bulk items answered 429 es_rejected_execution_exception, counted by status', async () => {
    standin.setFaults({ bulkItemRejectShare: 0.5 });
    const res = await writer.bulk({ operations: operations('traces-apm-faults', ['a', 'b', 'c', 'd']) });
    expect(statuses(res.items)).toEqual([201, 429, 201, 429]);
    expect(Object.values(res.items[1] ?? {})[0]).toMatchObject({ error: { type: 'es_rejected_execution_exception' } });
    expect(standin.counters).toMatchObject({ bulkRequests: 1, itemsByStatus: { 201: 2, 429: 2 }, documentsStored: 2 });
    expect(
      standin
        .documents('traces-apm-faults')
        .map((d) => d.id)
        .sort(),
    ).toEqual(['a', 'c']);
  });

  test.each([429, 502, 503, 504])('whole requests answered %i, then recovery', async (status) => {
    standin.setFaults({ failRequests: { status, times: 1 } });
    const failed = await writer
      .bulk({ operations: operations('traces-apm-faults', [`r${status}`]) })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(errors.ResponseError);
    expect(failed instanceof errors.ResponseError ? failed.meta.statusCode : 0).toBe(status);
    const ok = await writer.bulk({ operations: operations('traces-apm-faults', [`r${status}`]) });
    expect(statuses(ok.items)).toEqual([201]);
  });

  test('delay: the client times out', async () => {
    standin.setFaults({ delay: { ms: 1500, times: 1 } });
    const slow = await writer
      .bulk({ operations: operations('traces-apm-faults', ['slow']) }, { requestTimeout: 200 })
      .catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(errors.TimeoutError);
  });

  test('connection reset mid-response', async () => {
    standin.setFaults({ resetMidResponse: { times: 1 } });
    const reset = await writer
      .bulk({ operations: operations('traces-apm-faults', ['reset']) })
      .catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(errors.ConnectionError);
    expect(standin.counters.faultsApplied).toEqual({ resetMidResponse: 1 });
  });

  test('a response without the product header is refused by the client', async () => {
    standin.setFaults({ omitProductHeader: { path: '/_security', times: 1 } });
    const refused = await writer.security.authenticate().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(errors.ProductNotSupportedError);
  });

  test('stopped: connection refused; resumed: documents kept; restart without documents', async () => {
    await writer.bulk({ operations: operations('traces-apm-stop', ['kept']) });
    await standin.stop();
    const refused = await writer.security.authenticate().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(errors.ConnectionError);
    await standin.resume();
    expect(standin.documents('traces-apm-stop').map((d) => d.id)).toEqual(['kept']);
    await standin.restart({ keepDocuments: false });
    expect(standin.documents('traces-apm-stop')).toEqual([]);
    expect((await writer.security.authenticate()).username).toBe('apm_sidecar_test_writer');
  });
});

describe('stand-in as a process', () => {
  let standin: StandinProcess;
  let target: EsTarget;

  beforeAll(async () => {
    standin = await StandinProcess.start();
    target = makeTarget({
      kind: 'standin',
      description: 'stand-in process',
      url: standin.url,
      caFile: standin.caFile,
      admin: { username: 'elastic', password: standin.elasticPassword },
      standin: undefined,
      lacks: new Set(),
      close: () => standin.close(),
    });
  }, 60_000);
  afterAll(async () => {
    await target.close();
  });

  test('SIGKILL, connection refused, restart keeping then losing documents; faults over HTTP', async () => {
    const principals = await provisionTestPrincipals(target);
    const writer = target.client(principals.writer);
    await writer.bulk({ operations: operations('traces-apm-proc', ['p1', 'p2']) });
    await standin.kill('SIGKILL');
    expect(await writer.security.authenticate().catch((e: unknown) => e)).toBeInstanceOf(errors.ConnectionError);
    await standin.restart({ keepDocuments: true });
    expect((await standin.documents('traces-apm-proc')).map((d) => d.id)).toEqual(['p1', 'p2']);
    const again = await writer.bulk({ operations: operations('traces-apm-proc', ['p1']) });
    expect(statuses(again.items)).toEqual([409]);
    await standin.setFaults({ failRequests: { status: 503, times: 1 } });
    expect(
      await writer.bulk({ operations: operations('traces-apm-proc', ['p3']) }).catch((e: unknown) => e),
    ).toBeInstanceOf(errors.ResponseError);
    expect(await standin.counters()).toMatchObject({ faultsApplied: { failRequests: 1 }, documentsStored: 2 });
    await standin.restart({ keepDocuments: false });
    expect(await standin.documents('traces-apm-proc')).toEqual([]);
  }, 60_000);
});
