import type { OtlpRequest } from '../../../queue/otlp/model';
import type { OtlpTransformContext, PositionedDocument } from './documents';
import { logDocuments } from './logs';
import { metricDocuments } from './metrics';
import { traceDocuments } from './traces';

export type { OtlpTransformContext, PositionedDocument } from './documents';

/**
 * The OTLP -> APM document transform: pure, shaped as APM Server (elastic/apm-data input/otlp) indexes OTLP, with
 * each document's position in the request for its deterministic `_id` (docs/compatibility.md lists differences).
 */
export function transformOtlpRequest(request: OtlpRequest, ctx: OtlpTransformContext): PositionedDocument[] {
  switch (request.signal) {
    case 'traces':
      return traceDocuments(request.resources, ctx);
    case 'metrics':
      return metricDocuments(request.resources, ctx);
    case 'logs':
      return logDocuments(request.resources, ctx);
  }
}
