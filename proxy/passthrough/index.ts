import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

import { runtimeConfig } from '../../config/runtime';
import type { SidecarConfig } from '../../config/schema';
import type { UpstreamPassthrough } from './passthrough';
import { type UpstreamSettings, upstreamSettingsFrom } from './upstream';

export type { UpstreamPassthrough } from './passthrough';
export { upstreamSettingsFrom } from './upstream';

export interface PassthroughDependencies {
  readonly logger: Logger;
  readonly registry?: Registry;
  /** Already built from config.upstream (to share its connection pool with agent config); built here otherwise. */
  readonly upstream?: UpstreamSettings | null;
}

/**
 * The pass-through, or null without upstream.url (then unknown paths stay 404). Its module (with http-proxy-3) is
 * loaded only when upstream.url is set; a synchronous require, because import() stays an ES module import under
 * Node16 resolution, which jest's CommonJS VM cannot run.
 */
export function createUpstreamPassthrough(
  config: SidecarConfig,
  deps: PassthroughDependencies,
): UpstreamPassthrough | null {
  const upstream =
    deps.upstream === undefined
      ? upstreamSettingsFrom(config.upstream, runtimeConfig(config).ms['upstream.timeout'])
      : deps.upstream;
  if (upstream === null) return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { UpstreamPassthrough } = require('./passthrough') as typeof import('./passthrough');
  return new UpstreamPassthrough({
    upstream,
    logger: deps.logger,
    trustedProxies: runtimeConfig(config).networks.trustedProxies,
    ...(deps.registry === undefined ? {} : { registry: deps.registry }),
  });
}
