import crypto from 'node:crypto';

import { indexNotFound } from './es-errors';
import { isObject, type JsonObject, matchesGlob } from './json';
import { applyDocumentToMapping, DocumentRejected, type FieldTypes, fieldTypesFromMappings } from './mappings';

export interface StoredDocument {
  readonly source: JsonObject;
  readonly seqNo: number;
}

export interface StoredIndex {
  readonly name: string;
  readonly uuid: string;
  readonly dataStream: string | undefined;
  readonly fields: FieldTypes;
  readonly dynamicTemplates: unknown;
  readonly replicas: number;
  readonly docs: Map<string, StoredDocument>;
  nextSeqNo: number;
}

export interface DataStream {
  readonly name: string;
  readonly template: string;
  readonly backingIndices: string[];
}

export interface IndexedResult {
  readonly index: string;
  readonly seqNo: number;
  readonly replicas: number;
}

/** Indices, data streams and templates: the documents side of the stand-in. */
export class DocumentStore {
  readonly indices = new Map<string, StoredIndex>();
  readonly dataStreams = new Map<string, DataStream>();
  readonly indexTemplates = new Map<string, JsonObject>();
  readonly componentTemplates = new Map<string, JsonObject>();
  readonly ilmPolicies = new Map<string, { policy: JsonObject; version: number; modified: string }>();

  /** The highest-priority index template whose patterns match `name`. */
  matchingTemplate(name: string): [string, JsonObject] | undefined {
    let best: [string, JsonObject, number] | undefined;
    for (const [templateName, body] of this.indexTemplates) {
      const patterns = Array.isArray(body['index_patterns']) ? body['index_patterns'] : [body['index_patterns']];
      if (!patterns.some((p) => typeof p === 'string' && matchesGlob(p, name))) continue;
      const priority = typeof body['priority'] === 'number' ? body['priority'] : 0;
      if (best === undefined || priority > best[2]) best = [templateName, body, priority];
    }
    return best === undefined ? undefined : [best[0], best[1]];
  }

  /** Mappings of a template merged with its component templates (components first, as Elasticsearch does). */
  private templateMappings(body: JsonObject | undefined): {
    fields: FieldTypes;
    dynamicTemplates: unknown;
    replicas: number;
  } {
    const fields: FieldTypes = new Map();
    const dynamicTemplates: unknown[] = [];
    let replicas = 1;
    const parts = [
      ...(body !== undefined && Array.isArray(body['composed_of']) ? body['composed_of'] : []).map((n) =>
        typeof n === 'string' ? this.componentTemplates.get(n) : undefined,
      ),
      body,
    ];
    for (const part of parts) {
      const template = part !== undefined && isObject(part['template']) ? part['template'] : undefined;
      const mappings = template !== undefined && isObject(template['mappings']) ? template['mappings'] : undefined;
      fieldTypesFromMappings(mappings, fields);
      const dynamic: unknown = mappings?.['dynamic_templates'];
      if (Array.isArray(dynamic)) dynamicTemplates.push(...(dynamic as unknown[]));
      const settings = template !== undefined && isObject(template['settings']) ? template['settings'] : {};
      const index = isObject(settings['index']) ? settings['index'] : settings;
      const r = index['number_of_replicas'] ?? settings['index.number_of_replicas'];
      if (r !== undefined) replicas = Number(r);
    }
    return { fields, dynamicTemplates, replicas };
  }

  createIndex(name: string, dataStream: string | undefined, body: JsonObject | undefined): StoredIndex {
    const mapped = this.templateMappings(body);
    const index: StoredIndex = {
      name,
      uuid: crypto.randomBytes(16).toString('base64url').slice(0, 22),
      dataStream,
      fields: mapped.fields,
      dynamicTemplates: mapped.dynamicTemplates,
      replicas: mapped.replicas,
      docs: new Map(),
      nextSeqNo: 0,
    };
    this.indices.set(name, index);
    return index;
  }

  /** The concrete index a write to `name` lands in; auto-creates (data stream or index) when `create` is set. */
  writeIndexFor(name: string, autoCreate: boolean): StoredIndex | undefined {
    const stream = this.dataStreams.get(name);
    if (stream !== undefined) return this.indices.get(stream.backingIndices[stream.backingIndices.length - 1] ?? '');
    const existing = this.indices.get(name);
    if (existing !== undefined || !autoCreate) return existing;
    const template = this.matchingTemplate(name);
    if (template !== undefined && isObject(template[1]['data_stream'])) {
      const date = new Date().toISOString().slice(0, 10).replace(/-/g, '.');
      const backing = `.ds-${name}-${date}-000001`;
      this.dataStreams.set(name, { name, template: template[0], backingIndices: [backing] });
      return this.createIndex(backing, name, template[1]);
    }
    return this.createIndex(name, undefined, template?.[1]);
  }

  /** Indexes one document; throws DocumentRejected with the item status and error Elasticsearch would give. */
  put(
    index: StoredIndex,
    id: string,
    source: JsonObject,
    opType: 'create' | 'index',
    named: Readonly<Record<string, string>> = {},
  ): IndexedResult {
    if (index.dataStream !== undefined && source['@timestamp'] === undefined) {
      const reason = 'data stream timestamp field [@timestamp] is missing';
      throw new DocumentRejected(400, {
        type: 'document_parsing_exception',
        reason: `[1:${JSON.stringify(source).length}] failed to parse: ${reason}`,
        caused_by: { type: 'illegal_argument_exception', reason },
      });
    }
    const existing = index.docs.get(id);
    if (existing !== undefined && opType === 'create') {
      throw new DocumentRejected(409, {
        type: 'version_conflict_engine_exception',
        reason: `[${id}]: version conflict, document already exists (current version [1])`,
        index_uuid: index.uuid,
        shard: '0',
        index: index.name,
      });
    }
    applyDocumentToMapping(index.fields, source, id, index.dynamicTemplates, named);
    const seqNo = index.nextSeqNo++;
    index.docs.set(id, { source, seqNo });
    return { index: index.name, seqNo, replicas: index.replicas };
  }

  /** Concrete indices a search or count over `expression` (comma list, wildcards, data streams) reads. */
  resolve(expression: string, allowMissing = false): StoredIndex[] {
    const out: StoredIndex[] = [];
    for (const part of expression.split(',')) {
      const names = new Set<string>();
      for (const [name, stream] of this.dataStreams)
        if (matchesGlob(part, name)) stream.backingIndices.forEach((b) => names.add(b));
      for (const name of this.indices.keys()) {
        if (matchesGlob(part, name) && (!name.startsWith('.') || part.startsWith('.') || part === name))
          names.add(name);
      }
      if (names.size === 0 && !part.includes('*') && part !== '_all' && !allowMissing) throw indexNotFound(part);
      if (part === '_all') for (const n of this.indices.keys()) names.add(n);
      for (const n of names) {
        const index = this.indices.get(n);
        if (index !== undefined && !out.includes(index)) out.push(index);
      }
    }
    return out;
  }

  documentCount(): number {
    let n = 0;
    for (const index of this.indices.values()) n += index.docs.size;
    return n;
  }
}
