import { spawn } from 'node:child_process';
import path from 'node:path';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { decodeJobBody, parseIntakeJobData } from '../../queue/contract';
import { childEnv, SpawnedProcess } from '../support/spawn-cli';

/** A tiny instrumented app: one transaction with a span and a captured error, flushed, then exit. */
const agentApp = `
const apm = require('elastic-apm-node').start({
  serviceName: 'e2e-svc', serverUrl: process.env.SERVER_URL, secretToken: process.env.SECRET_TOKEN,
  serverCaCertFile: process.env.CA_FILE, centralConfig: false, metricsInterval: '0s', cloudProvider: 'none',
  captureExceptions: false, logLevel: 'warn', disableInstrumentations: ['http'],
});
const trans = apm.startTransaction('GET /e2e', 'request');
const span = apm.startSpan('db-query', 'db');
setTimeout(() => {
  span.end();
  apm.captureError(new Error('e2e boom'));
  trans.end();
  apm.flush((err) => { if (err) { console.error('flush failed', err); process.exit(2); } process.exit(0); });
}, 20);
`;

/** Runs the real elastic-apm-node agent in a child process against the given server. */
export async function runAgentApp(serverUrl: string, token: string, caFile: string): Promise<SpawnedProcess> {
  const child = spawn(process.execPath, ['-e', agentApp], {
    cwd: path.resolve(__dirname, '../..'),
    env: childEnv({ SERVER_URL: serverUrl, SECRET_TOKEN: token, CA_FILE: caFile }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app = new SpawnedProcess(child);
  const exit = await app.exited;
  if (exit.code !== 0) throw new Error(`the agent app exited ${String(exit.code)}:\n${app.stdout}\n${app.stderr}`);
  return app;
}

/** Every event line queued in Redis under the queue name, by event type. */
export async function queuedEvents(redisUrl: string, queueName: string): Promise<Map<string, string[]>> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  try {
    const byType = new Map<string, string[]>();
    for (const job of await queue.getJobs(['waiting', 'active', 'delayed'])) {
      for (const { line } of decodeJobBody(parseIntakeJobData(job.data), 64 * 1024 * 1024).events) {
        const type = Object.keys(JSON.parse(line) as Record<string, unknown>)[0] ?? '?';
        byType.set(type, [...(byType.get(type) ?? []), line]);
      }
    }
    return byType;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
