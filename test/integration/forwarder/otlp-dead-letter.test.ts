import { randomUUID } from 'node:crypto';

import { runDlqReplay } from '../../../cli/dlq';
import { loadConfig } from '../../../config/load';
import { writerRoleName } from '../../../elasticsearch/setup/roles';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { enqueue, forwarderBed, otlpJob, superuser, waitFor } from './support';

/** Adds `data_stream.dataset: <dataset>` to the first resource of an OTLP/JSON traces request. */
function rerouteTo(dataset: string): (request: Record<string, unknown>) => void {
  return (request) => {
    const resources = request.resourceSpans;
    if (!Array.isArray(resources)) throw new Error('fixture has no resourceSpans');
    const first: unknown = resources[0];
    if (first === null || typeof first !== 'object' || !('resource' in first)) throw new Error('no resource');
    const resource = first.resource;
    if (resource === null || typeof resource !== 'object' || !('attributes' in resource)) throw new Error('no attrs');
    const attributes = resource.attributes;
    if (!Array.isArray(attributes)) throw new Error('attributes is not a list');
    attributes.push({ key: 'data_stream.dataset', value: { stringValue: dataset } });
  };
}

describe('OTLP documents in the dead-letter queue (real redis-server, Elasticsearch stand-in)', () => {
  const bed = forwarderBed();

  it('dead-letters documents re-routed outside the writer role with what to grant; the entry is the document as sent', async () => {
    const { queue, logs, standin, writer, connection: inspect, redis } = bed;
    const queueName = queue.name;
    await bed.start();
    const plain = otlpJob('traces');
    const rerouted = otlpJob('traces', randomUUID(), rerouteTo('payments.checkout'));
    await enqueue(queue, plain);
    await enqueue(queue, rerouted);
    await waitFor('jobs completed', async () => (await queue.getJobCounts('completed')).completed === 2);

    const indexed = standin.documents('traces-apm*');
    const dlq = new DeadLetterQueue(inspect, queueName, { maxEntries: 100, maxAgeMs: 60_000 });
    const page = await dlq.page(0, 100);
    const entries = page.entries.map((e) => e.entry);
    // Nothing of the re-routed request reached a data stream; every document of it is in the DLQ, none lost.
    expect(standin.documents('*-payments.checkout-*')).toEqual([]);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry.jobId).toBe(rerouted.requestId);
      // Without a template for it the item fails on require_data_stream (404) before the privilege check (403).
      expect([403, 404]).toContain(entry.status);
      expect(['security_exception', 'index_not_found_exception']).toContain(entry.reason);
      // Span events become logs and errors: the attribute re-routes them too.
      const type = /^(traces|logs)-payments\.checkout-default$/.exec(entry.dataStream)?.[1];
      expect(type).toBeDefined();
      expect(entry.message).toContain('outside the writer role');
      expect(entry.message).toContain(`grant the writer auto_configure and create_doc on ${type}-payments.checkout-*`);
    }
    // The entry's event is the _source that was sent: the plain request's twin document, with the dataset changed.
    const byPosition = new Map(indexed.map((d) => [d.id.slice(d.id.lastIndexOf('.')), d.source]));
    const [first] = entries;
    if (first === undefined) throw new Error('no entry');
    const sent = JSON.parse(first.event) as Record<string, unknown>;
    const twin = byPosition.get(first.id.slice(first.id.lastIndexOf('.')));
    expect(sent.data_stream).toMatchObject({ dataset: 'payments.checkout', namespace: 'default' });
    expect({ ...sent, data_stream: undefined, labels: undefined }).toEqual({
      ...twin,
      data_stream: undefined,
      labels: undefined,
    });
    logs.assertNoUnexpectedErrors();

    // Once the role covers it (and a template with data_stream exists), a replay indexes every one of them.
    const es = superuser(standin);
    await es.indices.putIndexTemplate({
      name: 'payments',
      index_patterns: ['traces-payments.checkout-*', 'logs-payments.checkout-*'],
      data_stream: {},
      priority: 500,
    });
    await es.security.putRole({
      name: 'payments_writer',
      indices: [
        {
          names: ['traces-payments.checkout-*', 'logs-payments.checkout-*'],
          privileges: ['auto_configure', 'create_doc'],
        },
      ],
    });
    await es.security.putUser({
      username: writer.username,
      password: writer.password,
      roles: [writerRoleName, 'payments_writer'],
    });
    await es.close();
    const loaded = loadConfig({ env: {}, overrides: { queue: { redis: { url: redis.url }, name: queueName } } });
    const out: string[] = [];
    await runDlqReplay(
      loaded,
      { reason: undefined },
      (l) => out.push(l),
      () => undefined,
    );
    expect(out.join('\n')).toMatch(new RegExp(`^${entries.length} dead-lettered documents put back`));
    await waitFor(
      'replayed documents indexed',
      () => standin.documents('*-payments.checkout-*').length === entries.length,
    );
    expect(await dlq.size()).toBe(0);
  });
});
