import type { IntakeJobData } from '../queue/contract';

/**
 * Stand-in for forwarder/transform (being built separately) with the same signature: a minimal document with
 * @timestamp, processor.event, data_stream.* and the raw event, so delivery can be built and proven first.
 */
export interface TransformContext {
  readonly receivedAt: number;
  readonly client: IntakeJobData['client'];
  readonly identity: IntakeJobData['identity'];
  readonly namespace: string;
}
export interface ApmDocument {
  readonly dataStream: string;
  readonly source: Record<string, unknown>;
}
export type TransformResult = { readonly ok: true; readonly doc: ApmDocument } | { readonly ok: false; readonly reason: string };

const datasets: Record<string, { type: string; dataset: string }> = {
  transaction: { type: 'traces', dataset: 'apm' },
  span: { type: 'traces', dataset: 'apm' },
  error: { type: 'logs', dataset: 'apm.error' },
  log: { type: 'logs', dataset: 'apm.app' },
  metricset: { type: 'metrics', dataset: 'apm.internal' },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function createJobTransformer(metadataLine: string, ctx: TransformContext): { transform(eventLine: string): TransformResult } {
  const metadata: unknown = JSON.parse(metadataLine);
  return {
    transform(eventLine: string): TransformResult {
      let parsed: unknown;
      try {
        parsed = JSON.parse(eventLine);
      } catch {
        return { ok: false, reason: 'event line is not JSON' };
      }
      if (!isRecord(parsed)) return { ok: false, reason: 'event line is not an object' };
      const [kind, event] = Object.entries(parsed)[0] ?? [];
      const target = kind === undefined ? undefined : datasets[kind];
      if (target === undefined || !isRecord(event)) return { ok: false, reason: `unknown event type ${String(kind)}` };
      const micros = typeof event.timestamp === 'number' ? event.timestamp : ctx.receivedAt * 1000;
      const dataStream = { type: target.type, dataset: target.dataset, namespace: ctx.namespace };
      return {
        ok: true,
        doc: {
          dataStream: `${target.type}-${target.dataset}-${ctx.namespace}`,
          source: {
            '@timestamp': new Date(Math.floor(micros / 1000)).toISOString(),
            processor: { event: kind },
            data_stream: dataStream,
            event: { original: eventLine },
            metadata,
          },
        },
      };
    },
  };
}
