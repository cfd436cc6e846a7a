/**
 * Faults a test switches on per request path. Each request-level fault applies to paths matching `path`
 * (a substring; default '/_bulk') for `times` requests (default: until cleared).
 */
export interface RequestFault {
  readonly path?: string;
  times?: number;
}

export interface FaultPlan {
  /** Share (0..1) of bulk items answered 429 es_rejected_execution_exception; spread evenly, not random. */
  bulkItemRejectShare?: number;
  /** Whole requests answered with this status (429, 500, 502, 503, 504) and an Elasticsearch-like body. */
  failRequests?: RequestFault & { readonly status: number };
  /** Requests answered only after this many milliseconds. */
  delay?: RequestFault & { readonly ms: number };
  /** Headers and half of the body are sent, then the connection is reset. */
  resetMidResponse?: RequestFault;
  /** Responses sent without `x-elastic-product: Elasticsearch` (the client then refuses them). */
  omitProductHeader?: RequestFault;
}

export interface Counters {
  requests: number;
  bulkRequests: number;
  /** Bulk items answered, by HTTP status ("201", "409", "429", ...). */
  itemsByStatus: Record<string, number>;
  /** Requests failed or disturbed by a fault, by fault name. */
  faultsApplied: Record<string, number>;
  /** Documents held right now, over every index (read-only: computed when read). */
  documentsStored: number;
}

export function emptyCounters(): Counters {
  return { requests: 0, bulkRequests: 0, itemsByStatus: {}, faultsApplied: {}, documentsStored: 0 };
}

/** Consumes one use of `fault` if it applies to `path`; the caller then acts it out. */
export function takeFault<T extends RequestFault>(fault: T | undefined, path: string): T | undefined {
  if (fault === undefined) return undefined;
  if (!path.includes(fault.path ?? '/_bulk')) return undefined;
  if (fault.times !== undefined) {
    if (fault.times <= 0) return undefined;
    fault.times -= 1;
  }
  return fault;
}

/** Decides per bulk item whether it is rejected, so that `share` of items are, spread evenly. */
export class ItemRejector {
  private credit = 0;

  reject(share: number | undefined): boolean {
    if (share === undefined || share <= 0) return false;
    this.credit += Math.min(share, 1);
    if (this.credit >= 1 - 1e-9) {
      this.credit -= 1;
      return true;
    }
    return false;
  }
}

export const requestFailureBodies: Readonly<Record<number, unknown>> = {
  429: {
    error: {
      root_cause: [{ type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' }],
      type: 'es_rejected_execution_exception',
      reason: 'rejected execution of coordinating operation',
    },
    status: 429,
  },
  500: { error: { root_cause: [{ type: 'exception', reason: 'stand-in injected failure' }], type: 'exception', reason: 'stand-in injected failure' }, status: 500 },
  503: {
    error: {
      root_cause: [{ type: 'cluster_block_exception', reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];' }],
      type: 'cluster_block_exception',
      reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];',
    },
    status: 503,
  },
};
