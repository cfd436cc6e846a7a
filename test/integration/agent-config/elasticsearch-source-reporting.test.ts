import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { Client } from '@elastic/elasticsearch';

import { ElasticsearchAgentConfigSource } from '../../../proxy/agent-config/elasticsearch-source';
import { LogSink } from '../../support/log-sink';

/** Answers every search with `status`: 200 with one Kibana document, else an Elasticsearch error body. */
function indexAnswering(state: { status: number }): http.Server {
  return http.createServer((req, res) => {
    req.resume();
    const document = {
      service: { name: 'checkout' },
      settings: { transaction_sample_rate: '0.3' },
      etag: 'k1',
      applied_by_agent: false,
      '@timestamp': 1,
    };
    const body =
      state.status === 200
        ? {
            took: 1,
            timed_out: false,
            hits: { total: { value: 1, relation: 'eq' }, hits: [{ _id: 'a', _source: document }] },
          }
        : {
            error: {
              type: state.status === 403 ? 'security_exception' : 'unavailable_shards_exception',
              reason: 'refused',
            },
            status: state.status,
          };
    res
      .writeHead(state.status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' })
      .end(JSON.stringify(body));
  });
}

describe('ElasticsearchAgentConfigSource: what the operator reads while no configuration could be read', () => {
  const state = { status: 503 };
  const server = indexAnswering(state);
  let client: Client;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    client = new Client({ node: `http://127.0.0.1:${(address satisfies AddressInfo).port}`, maxRetries: 0 });
  });
  afterAll(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('logs each new cause once (an outage at start, then the missing privilege once the cluster answers), then the recovery', async () => {
    const sink = new LogSink();
    // Period 0: every lookup reads the index again, as polls after each cache period would.
    const source = new ElasticsearchAgentConfigSource(client, 0, sink.logger('proxy'), false);
    const failures = (): Array<[string, string]> =>
      sink.lines.filter((l) => String(l.msg).includes('could not be read')).map((l) => [l.level, String(l.msg)]);
    const query = { serviceName: 'checkout', serviceEnvironment: '' };

    await source.start();
    await expect(source.lookup(query)).rejects.toMatchObject({ code: 'SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE' });
    expect(failures()).toEqual([['warn', expect.stringContaining('SIDECAR_ERR_ES_UNAVAILABLE') as unknown]]);

    state.status = 403;
    await expect(source.lookup(query)).rejects.toMatchObject({ code: 'SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE' });
    await expect(source.lookup(query)).rejects.toMatchObject({ code: 'SIDECAR_ERR_AGENT_CONFIG_UNAVAILABLE' });
    expect(failures()).toHaveLength(2);
    expect(failures()[1]).toEqual([
      'error',
      expect.stringContaining('"read" index privilege on .apm-agent-configuration') as unknown,
    ]);

    state.status = 200;
    await expect(source.lookup(query)).resolves.toEqual({ settings: { transaction_sample_rate: '0.3' }, etag: 'k1' });
    expect(
      sink.lines
        .filter((l) => l.msg === 'agent configuration loaded from .apm-agent-configuration')
        .map((l) => l.entries),
    ).toEqual([1]);
    await source.close();
  });
});
