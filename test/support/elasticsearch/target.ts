import { type EsTarget, makeTarget } from '../es-target';
import { containerRunnable, startContainerTarget } from './container';
import { distributionRunnable } from './distribution';
import { sharedNode } from './shared';

/** Java + Maven (or a prepared copy) here, or a Docker engine for testcontainers. */
export function realNodeRunnable(): boolean {
  return distributionRunnable() || containerRunnable();
}

/**
 * The integ-test-zip node shared by this jest run, else a testcontainers Elasticsearch, else undefined.
 * Closing the target closes its clients only: the node lives until the jest run ends.
 */
export async function startRealNodeTarget(): Promise<EsTarget | undefined> {
  if (distributionRunnable()) {
    const node = await sharedNode();
    return makeTarget({
      kind: 'real',
      description: `integ-test-zip ${node.version}`,
      url: node.url,
      caFile: node.caFile,
      admin: { username: 'elastic', password: node.password },
      standin: undefined,
      // Absent modules of the integ-test-zip: no ILM, no _data_stream REST API, no `GET /` (405), no
      // mapper-extras / constant-keyword field types.
      lacks: new Set(['ilm', 'data_stream_api', 'root_info', 'mapper_extras']),
      close: () => Promise.resolve(),
    });
  }
  if (containerRunnable()) return startContainerTarget();
  return undefined;
}
