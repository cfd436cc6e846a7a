import type { Queue } from 'bullmq';

import { documentId } from '../../../forwarder/document-id';
import type { Forwarder } from '../../../forwarder/forwarder';
import type { EsStandin } from '../../support/es-standin/server';
import type { LogSink } from '../../support/log-sink';
import { enqueue, forwarderBed, intakeJob, superuser, transactionLine, waitFor } from './support';

describe('forwarder delivery (real redis-server, Elasticsearch stand-in)', () => {
  const bed = forwarderBed();
  let standin: EsStandin;
  let queue: Queue;
  let forwarder: Forwarder | undefined;
  let logs: LogSink;
  let namespace = '';
  let testNumber = 0;
  const docsIn = (type = 'traces'): Array<{ id: string }> => standin.documents(`${type}-apm*-${namespace}`);

  beforeEach(() => {
    ({ standin, queue, logs } = bed);
    namespace = `t${++testNumber}`;
    standin.setFaults({});
    standin.resetCounters();
  });

  async function admin(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${forwarder?.admin.port ?? 0}${path}`);
    return { status: res.status, body: await res.text() };
  }

  it('writes every event once with its deterministic _id, retrying 30% of items answered 429', async () => {
    standin.setFaults({ bulkItemRejectShare: 0.3 });
    const jobs = Array.from({ length: 20 }, (_, j) =>
      intakeJob(Array.from({ length: 10 }, (_, i) => transactionLine(j * 10 + i))),
    );
    for (const job of jobs) await enqueue(queue, job);
    forwarder = await bed.start({ data_streams: { namespace } });
    await waitFor('all jobs completed', async () => (await queue.getJobCounts('completed')).completed === 20);
    const ids = docsIn()
      .map((d) => d.id)
      .sort();
    const expected = jobs.flatMap((j) => Array.from({ length: 10 }, (_, i) => documentId(j.requestId, i))).sort();
    expect(ids).toEqual(expected);
    expect(standin.counters.itemsByStatus['429']).toBeGreaterThan(0);
    // BullMQ emits 'completed' just after the job moved: the count can trail the queue's by a moment.
    await waitFor('20 jobs counted completed', async () =>
      /apm_sidecar_forwarder_jobs_total\{result="completed",role="forwarder"\} 20\n/.test(
        (await admin('/metrics')).body,
      ),
    );
    const metrics = (await admin('/metrics')).body;
    expect(metrics).toMatch(/apm_sidecar_documents_total\{outcome="indexed",role="forwarder"\} 200/);
    expect(metrics).toMatch(/apm_sidecar_document_retries_total\{role="forwarder"\} [1-9]/);
    expect(metrics).toMatch(/apm_sidecar_queue_jobs\{state="waiting",partition="0",role="forwarder"\} 0/);
    expect(metrics).toMatch(/apm_sidecar_bulk_request_duration_seconds_count\{[^}]*result="ok"[^}]*\} [1-9]/);
    expect((await admin('/readyz')).status).toBe(200);
    expect((await admin('/healthz')).status).toBe(200);
    logs.assertNoUnexpectedErrors();
  });

  it('counts a redelivered job as duplicates, not as new documents', async () => {
    const job = intakeJob([transactionLine(1), transactionLine(2)]);
    forwarder = await bed.start({ data_streams: { namespace } });
    await enqueue(queue, job);
    await waitFor('first pass', async () => (await queue.getJobCounts('completed')).completed === 1);
    await queue.add('intake', job, { jobId: `${job.requestId}-again` });
    await waitFor('second pass', async () => (await queue.getJobCounts('completed')).completed === 2);
    expect(docsIn().length).toBe(2);
    expect((await admin('/metrics')).body).toMatch(
      /apm_sidecar_documents_total\{outcome="duplicate",role="forwarder"\} 2/,
    );
  });

  it('waits for its preconditions, naming the missing privilege on /readyz, and takes no job until they pass', async () => {
    const es = superuser(standin);
    await es.security.putRole({
      name: 'weak',
      cluster: ['monitor'],
      indices: [{ names: ['traces-apm*'], privileges: ['create_doc'] }],
    });
    await es.security.putUser({ username: 'weak_writer', password: 'weak-secret', roles: ['weak'] });
    await enqueue(queue, intakeJob([transactionLine(7)]));
    const weak = { username: 'weak_writer', password: 'weak-secret' };
    forwarder = await bed.start({ data_streams: { namespace } }, { writer: weak });
    await waitFor('readyz names the missing privilege', async () =>
      (await admin('/readyz')).body.includes('auto_configure on traces-apm*'),
    );
    expect((await admin('/readyz')).status).toBe(503);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(1);
    await es.security.putUser({
      username: 'weak_writer',
      password: 'weak-secret',
      roles: ['weak', 'apm_sidecar_writer'],
    });
    await waitFor('job delivered after the grant', async () => (await queue.getJobCounts('completed')).completed === 1);
    expect((await admin('/readyz')).status).toBe(200);
    await es.close();
    logs.assertNoUnexpectedErrors([/precondition failed/]);
  });

  it('pauses on a rejected credential with an actionable log, keeps the job queued, resumes when it works again', async () => {
    const es = superuser(standin);
    forwarder = await bed.start({ data_streams: { namespace } });
    await waitFor('ready', async () => (await admin('/readyz')).status === 200);
    await es.security.putUser({
      username: bed.writer.username,
      password: 'rotated-elsewhere',
      roles: ['apm_sidecar_writer'],
    });
    await enqueue(queue, intakeJob([transactionLine(11)]));
    await waitFor('paused with an actionable log', () =>
      logs.errors().some((l) => /refused a bulk request \(401\).*stopped taking jobs.*api_key/.test(String(l.msg))),
    );
    await enqueue(queue, intakeJob([transactionLine(12)]));
    await waitFor('readyz reports the credential', async () =>
      (await admin('/readyz')).body.includes('SIDECAR_ERR_ES_AUTH'),
    );
    expect(docsIn().length).toBe(0);
    await waitFor('the second job stays queued', async () => (await queue.getJobCounts('waiting')).waiting === 1);
    const { username, password } = bed.writer;
    await es.security.putUser({ username, password, roles: ['apm_sidecar_writer'] });
    await waitFor(
      'both delivered after the credential works',
      async () => (await queue.getJobCounts('completed')).completed === 2,
    );
    expect(docsIn().length).toBe(2);
    await es.close();
    logs.assertNoUnexpectedErrors([/refused a bulk request/, /precondition failed/]);
  });
});
