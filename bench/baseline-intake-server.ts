/**
 * The intake baseline: a bare Node HTTPS server that only gunzips and discards the body, then answers 202.
 * Everything apm-sidecar's proxy does beyond this (token, validation, durable enqueue) is what the ratio prices.
 *
 *   tsx bench/baseline-intake-server.ts '{"port":0,"cert":"server.crt","key":"server.key"}'   -> prints {"port":N}
 */
import fs from 'node:fs';
import https from 'node:https';
import zlib from 'node:zlib';

const options = JSON.parse(process.argv[2] ?? '{}') as { port: number; cert: string; key: string };
const server = https.createServer(
  { cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) },
  (req, res) => {
    const gunzip = zlib.createGunzip();
    gunzip.on('data', () => undefined);
    gunzip.on('end', () => {
      res.statusCode = 202;
      res.end();
    });
    gunzip.on('error', () => {
      res.statusCode = 400;
      res.end();
    });
    req.pipe(gunzip);
  },
);
server.listen(options.port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ port: typeof address === 'object' && address !== null ? address.port : 0 })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
