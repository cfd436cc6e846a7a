import fs from 'node:fs';
import { parseArgs } from 'node:util';

import { EsStandin } from './server';

/**
 * Process mode, for tests that kill and restart Elasticsearch:
 *   npx tsx test/support/es-standin/main.ts --port N --data FILE --cert F --key F --ca F [--password P]
 * Prints `es-standin listening on <port>` when ready; SIGTERM/SIGINT close it. State lives in --data.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      data: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      password: { type: 'string', default: 'changeme' },
    },
  });
  const tls =
    values.cert !== undefined && values.key !== undefined && values.ca !== undefined
      ? { cert: fs.readFileSync(values.cert, 'utf8'), key: fs.readFileSync(values.key, 'utf8'), caFile: values.ca }
      : undefined;
  const standin = await EsStandin.start({
    port: Number(values.port),
    elasticPassword: values.password,
    ...(values.data !== undefined ? { dataFile: values.data } : {}),
    ...(tls !== undefined ? { tls } : {}),
  });
  const stop = (): void => {
    standin.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`es-standin listening on ${standin.port}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`es-standin: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
