import type { Client } from '@elastic/elasticsearch';

import { runtimeConfig } from '../../config/runtime';
import type { SidecarConfig } from '../../config/schema';
import type { Logger } from '../../core/log';
import { sourceMappingOn } from '../../elasticsearch/privileges';
import type { JsonObject } from '../transform/json';
import { applyRumFrameRules, bundlePaths, type FrameRules, type SourceMapLookup } from '../transform/rum/frame-rules';
import { type SourceMapFetcher, SourceMapStore } from './source-map-store';

/** The RUM frame rules with the maps they need fetched first (the one async step before a RUM document is sent). */
export class RumFrameProcessor {
  constructor(
    private readonly rules: FrameRules,
    private readonly store: SourceMapStore | null,
  ) {}

  async process(doc: JsonObject): Promise<void> {
    const lookup = this.store === null ? null : await this.prefetch(doc, this.store);
    applyRumFrameRules(doc, this.rules, lookup);
  }

  private async prefetch(doc: JsonObject, store: SourceMapStore): Promise<SourceMapLookup | null> {
    const service = doc.service;
    const name = typeof service === 'object' && service !== null && 'name' in service ? service.name : undefined;
    const version =
      typeof service === 'object' && service !== null && 'version' in service ? service.version : undefined;
    if (typeof name !== 'string' || typeof version !== 'string') return null;
    const paths = bundlePaths(doc);
    if (paths.length === 0) return null;
    const maps = new Map(await Promise.all(paths.map(async (p) => [p, await store.get(name, version, p)] as const)));
    return (path) => maps.get(path) ?? null;
  }
}

/** Reads `<index>/_doc/<id>` and returns its `content`; a 404 is "no map". */
function elasticsearchSourceMapFetcher(client: Client, index: string): SourceMapFetcher {
  return async (id) => {
    const response = await client.get<{ content?: unknown }>({ index, id }, { ignore: [404] });
    if (response.found !== true) return null;
    const content = response._source?.content;
    return typeof content === 'string' ? content : null;
  };
}

export function createRumFrameProcessor(
  config: SidecarConfig,
  client: Client | undefined,
  logger: Logger,
): RumFrameProcessor {
  const rum = config.server.rum;
  const rules: FrameRules = {
    libraryPattern: rum.library_pattern === '' ? null : new RegExp(rum.library_pattern),
    excludeFromGrouping: rum.exclude_from_grouping === '' ? null : new RegExp(rum.exclude_from_grouping),
  };
  const mapping = rum.source_mapping;
  const store =
    sourceMappingOn(config) && client !== undefined
      ? new SourceMapStore(
          elasticsearchSourceMapFetcher(client, mapping.index_pattern),
          {
            ttlMs: runtimeConfig(config).ms['server.rum.source_mapping.cache.expiration'],
            maxEntries: mapping.cache.max_entries,
          },
          logger,
        )
      : null;
  return new RumFrameProcessor(rules, store);
}
