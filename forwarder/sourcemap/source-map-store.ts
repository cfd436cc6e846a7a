import type { TraceMap } from '@jridgewell/trace-mapping';

import type { Logger } from '../../core/log';
import { decodeSourceMapContent, sourceMapDocumentId } from './decode';

/** Reads one `.apm-source-map` document's content by id; null when there is none. Throws on other failures. */
export type SourceMapFetcher = (id: string) => Promise<string | null>;

export interface SourceMapStoreOptions {
  /** How long a map (or its absence, or a failure) is kept before it is looked up again. */
  readonly ttlMs: number;
  /** Most maps kept; the least recently used goes first. */
  readonly maxEntries: number;
  readonly now?: () => number;
}

interface Entry {
  readonly map: TraceMap | null;
  readonly expires: number;
}

/**
 * Source maps by (service, version, bundle), fetched once and cached with an expiry (so a map uploaded or
 * replaced later is picked up) in an LRU bounded by count. Concurrent lookups of one map share one fetch. A
 * failed fetch (cluster down, no read privilege) is logged once per expiry and counts as "no map": the events
 * are still indexed, unmapped, as APM Server does.
 */
export class SourceMapStore {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<TraceMap | null>>();
  private readonly now: () => number;

  constructor(
    private readonly fetch: SourceMapFetcher,
    private readonly options: SourceMapStoreOptions,
    private readonly logger: Logger,
  ) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached map if it is fresh (no I/O); undefined when it must be fetched. */
  peek(serviceName: string, serviceVersion: string, bundlePath: string): TraceMap | null | undefined {
    const id = sourceMapDocumentId(serviceName, serviceVersion, bundlePath);
    const entry = this.entries.get(id);
    if (entry === undefined || entry.expires <= this.now()) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    return entry.map;
  }

  async get(serviceName: string, serviceVersion: string, bundlePath: string): Promise<TraceMap | null> {
    const cached = this.peek(serviceName, serviceVersion, bundlePath);
    if (cached !== undefined) return cached;
    const id = sourceMapDocumentId(serviceName, serviceVersion, bundlePath);
    const inFlight = this.pending.get(id);
    if (inFlight !== undefined) return inFlight;
    const loading = this.load(id).finally(() => this.pending.delete(id));
    this.pending.set(id, loading);
    return loading;
  }

  private async load(id: string): Promise<TraceMap | null> {
    let map: TraceMap | null = null;
    try {
      const content = await this.fetch(id);
      map = content === null ? null : decodeSourceMapContent(content);
    } catch (err) {
      this.logger.warn(
        { err: err instanceof Error ? err.message : String(err), sourceMap: id },
        'source map could not be read; RUM frames stay unmapped until it can (check read on .apm-source-map)',
      );
    }
    this.entries.delete(id);
    this.entries.set(id, { map, expires: this.now() + this.options.ttlMs });
    while (this.entries.size > Math.max(1, this.options.maxEntries)) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    return map;
  }
}
