import type { TransformResult } from '..';

/**
 * An OTLP document's dead-letter form. Its OTLP item cannot be kept as a line of its own (it needs its resource and
 * scope), so the entry stores the document itself: `metadata` marks it (with the bulk dynamic_templates) and
 * `event` is its _source. A replay writes it again as it was, under the same `_id`.
 */
const marker = 'otlp_document';

export function otlpDocumentMetadata(dynamicTemplates: Readonly<Record<string, string>> | undefined): string {
  return JSON.stringify({ [marker]: dynamicTemplates === undefined ? {} : { dynamic_templates: dynamicTemplates } });
}

export function isOtlpDocumentMetadata(metadata: string): boolean {
  return metadata.startsWith(`{"${marker}":`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function replayOtlpDocument(metadata: string, event: string, dataStream: string): TransformResult {
  try {
    const meta: unknown = JSON.parse(metadata);
    const source: unknown = JSON.parse(event);
    if (!isObject(meta) || !isObject(source) || dataStream === '')
      return { ok: false, reason: 'OTLP dead-letter entry without its document' };
    const dynamicTemplates = stringRecord(isObject(meta[marker]) ? meta[marker].dynamic_templates : undefined);
    return {
      ok: true,
      doc: dynamicTemplates === undefined ? { dataStream, source } : { dataStream, source, dynamicTemplates },
    };
  } catch (err) {
    return {
      ok: false,
      reason: `OTLP dead-letter entry is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
