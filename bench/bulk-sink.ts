/**
 * The end-to-end sink: the least an Elasticsearch can do and still be one to the forwarder. HTTPS with
 * keep-alive; `GET /` and `_has_privileges` answer as a secured 8.19 cluster would (product header included);
 * `POST /_bulk` reads the whole body, inflates it when gzip, counts its lines and answers every document 201 by
 * position. Nothing is parsed or stored, so its own CPU stays far below the pipeline's (the scenario reports it).
 *
 *   node --import tsx bench/bulk-sink.ts '{"cert":"server.crt","key":"server.key"}'   -> prints {"port":N}
 * GET /_sink/stats answers {"bulks","documents","bytes","rawBytes"} (bytes: as received, gzip included).
 */
import fs from 'node:fs';
import https from 'node:https';
import zlib from 'node:zlib';

const options = JSON.parse(process.argv[2] ?? '{}') as { cert: string; key: string };
const stats = { bulks: 0, documents: 0, bytes: 0, rawBytes: 0 };
const product = { 'x-elastic-product': 'Elasticsearch', 'content-type': 'application/json' };
const root = JSON.stringify({
  name: 'bench-sink',
  cluster_name: 'bench',
  version: { number: '8.19.0', build_flavor: 'default', lucene_version: '9.12.0' },
  tagline: 'You Know, for Search',
});
const item = '{"create":{"status":201}}';

function lineCount(body: Buffer): number {
  let n = 0;
  for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) n++;
  return n;
}

function bulkAnswer(documents: number): string {
  const items = new Array<string>(documents).fill(item).join(',');
  return `{"errors":false,"took":1,"items":[${items}]}`;
}

const server = https.createServer(
  { cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key), keepAliveTimeout: 60_000 },
  (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const path = url.split('?')[0] ?? '/';
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && path === '/_bulk') {
        const raw = req.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(body) : body;
        const documents = Math.floor(lineCount(raw) / 2);
        stats.bulks++;
        stats.documents += documents;
        stats.bytes += body.length;
        stats.rawBytes += raw.length;
        res.writeHead(200, product).end(bulkAnswer(documents));
      } else if (path === '/_sink/stats') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      } else if (path === '/_sink/reset') {
        Object.assign(stats, { bulks: 0, documents: 0, bytes: 0, rawBytes: 0 });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else if (path === '/') {
        res.writeHead(200, product).end(root);
      } else if (path.endsWith('/_has_privileges')) {
        res.writeHead(200, product).end('{"username":"bench","has_all_requested":true,"cluster":{},"index":{}}');
      } else {
        process.stderr.write(`bulk-sink: ${req.method ?? '?'} ${url} answered {}\n`);
        res.writeHead(200, product).end('{}');
      }
    });
  },
);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
