import type { Client } from '@elastic/elasticsearch';

import type { LoadedConfig } from '../config/load';
import { runtimeConfig } from '../config/runtime';
import { createEsClient } from '../elasticsearch/client';
import {
  type CheckResult,
  configChecks,
  elasticsearchReachCheck,
  failedCheck,
  privilegeChecks,
  redisCheck,
} from './check/checks';

function formatCheck(result: CheckResult): string {
  const line = `${result.status.padEnd(4, ' ')}  ${result.name}: ${result.detail}`;
  return result.remediation === undefined || result.status === 'ok'
    ? line
    : `${line}\n      to remediate: ${result.remediation}`;
}

/** Every check in order; Elasticsearch privileges only once the cluster answered. */
export async function collectChecks(loaded: LoadedConfig): Promise<CheckResult[]> {
  const config = loaded.config;
  const results = [...configChecks(config), await redisCheck(config)];
  if (config.output.elasticsearch.hosts.length === 0) {
    results.push({
      name: 'elasticsearch',
      status: 'skip',
      detail: 'no output.elasticsearch.hosts: documents go to ndjson files under path.data',
    });
    return results;
  }
  let client: Client;
  try {
    client = createEsClient(runtimeConfig(config).elasticsearch);
  } catch (err) {
    results.push(failedCheck('elasticsearch', err));
    return results;
  }
  try {
    const reach = await elasticsearchReachCheck(client);
    results.push(reach);
    if (reach.status === 'ok') results.push(...(await privilegeChecks(client, config)));
    return results;
  } finally {
    await client.close();
  }
}

/**
 * apm-sidecar check: one line per check with ok / warn / fail and a remediation; exit 1 on any failure, so it
 * can gate a container's start (a health check before the process runs).
 */
export async function runCheck(loaded: LoadedConfig): Promise<number> {
  const results = await collectChecks(loaded);
  for (const result of results) process.stdout.write(`${formatCheck(result)}\n`);
  const failures = results.filter((r) => r.status === 'fail').length;
  process.stdout.write(failures === 0 ? 'all checks passed\n' : `${failures} check(s) failed\n`);
  return failures === 0 ? 0 : 1;
}
