import http from 'node:http';
import zlib from 'node:zlib';

import { Client } from '@elastic/elasticsearch';

import { ElasticsearchSink } from '../../../forwarder/output/elasticsearch-sink';
import { prepareDocument } from '../../../forwarder/output/sink';

interface Received {
  encoding: string | undefined;
  body: string;
  url: string;
}

/** A bare HTTP server answering _bulk as Elasticsearch does, recording how each body arrived. */
async function fakeCluster(
  received: Received[],
  version = '8.19.0',
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify({ version: { number: version } }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      const body = (encoding === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
      received.push({ encoding, body, url: req.url ?? '' });
      const items = body
        .split('\n')
        .filter((l) => l.startsWith('{"create"'))
        .map(() => ({ create: { status: 201 } }));
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify({ errors: false, items }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('ElasticsearchSink compression (output.elasticsearch.compression_level)', () => {
  const docs = [
    prepareDocument('r.0', {
      dataStream: 'traces-apm-default',
      source: {
        '@timestamp': '2026-01-01T00:00:00.000Z',
        message: 'x'.repeat(4000),
      },
    }),
  ];

  it.each([
    [1, 'gzip'],
    [9, 'gzip'],
    [0, undefined],
  ])('level %i sends the body with content-encoding %s and the same bytes inside', async (level, encoding) => {
    const received: Received[] = [];
    const cluster = await fakeCluster(received);
    const client = new Client({ node: cluster.url, maxRetries: 0 });
    try {
      const result = await new ElasticsearchSink(client, level).write(docs);
      expect(result).toEqual({ ok: true, items: [{ kind: 'indexed' }] });
      expect(received).toHaveLength(1);
      expect(received[0]?.encoding).toBe(encoding);
      expect(received[0]?.body).toBe(docs[0]?.lines);
    } finally {
      await client.close();
      await cluster.close();
    }
  });
});

describe('ElasticsearchSink bulk parameters (as APM Server)', () => {
  const docs = [
    prepareDocument('p.0', { dataStream: 'traces-apm-default', source: { '@timestamp': '2026-01-01T00:00:00.000Z' } }),
  ];

  it.each([
    ['8.19.0', true],
    ['9.1.0', true],
    ['8.17.4', false],
  ])(
    'against %s: require_data_stream=true always, include_source_on_error=false only where the cluster knows it (%s)',
    async (version, sourceParam) => {
      const received: Received[] = [];
      const cluster = await fakeCluster(received, version);
      const client = new Client({ node: cluster.url, maxRetries: 0 });
      try {
        const sink = new ElasticsearchSink(client, 1);
        await sink.write(docs);
        await sink.write(docs);
        expect(received).toHaveLength(2);
        for (const r of received) {
          const query = new URL(r.url, 'http://x').searchParams;
          expect(query.get('require_data_stream')).toBe('true');
          expect(query.get('include_source_on_error')).toBe(sourceParam ? 'false' : null);
        }
      } finally {
        await client.close();
        await cluster.close();
      }
    },
  );
});
