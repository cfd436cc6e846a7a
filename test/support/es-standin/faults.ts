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
  /**
   * Bulks whose body as received (compressed, when it was) is over `maxBytes` are answered 413, as a reverse
   * proxy's `client_max_body_size` or the cluster's `http.max_content_length` would. `fromProxy`: an HTML page
   * without `x-elastic-product` (nginx); otherwise Elasticsearch's own empty 413.
   */
  tooLarge?: RequestFault & { readonly maxBytes: number; readonly fromProxy?: boolean };
  /** Share (0..1) of bulks never answered: the connection stays open until the client gives up. Spread evenly. */
  hangShare?: number;
  /** Share (0..1) of bulk answers that leave out their last item. Spread evenly. */
  dropLastItemShare?: number;
  /**
   * A cluster without the apm-data plugin's built-in templates (and without `apm-sidecar setup`'s): a bulk with
   * `require_data_stream=true` gets a per-item 404 for every APM data stream no data-stream template matches.
   * Otherwise the stand-in takes APM names as a default distribution does (stored as plain indices, simplified).
   */
  missingApmTemplates?: boolean;
  /** Whole requests answered by a load balancer: an HTML page with this status, without `x-elastic-product`. */
  htmlAnswer?: RequestFault & { readonly status: number };
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
  /** Most bulk requests open at once (received, not yet answered): what a bound on requests in flight caps. */
  bulkInFlightPeak: number;
}

export function emptyCounters(): Counters {
  return {
    requests: 0,
    bulkRequests: 0,
    itemsByStatus: {},
    faultsApplied: {},
    documentsStored: 0,
    bulkInFlightPeak: 0,
  };
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

/** Decides per bulk item (or request) whether a fault applies, so that `share` of them get it, spread evenly. */
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
  400: {
    error: {
      root_cause: [{ type: 'illegal_argument_exception', reason: 'stand-in injected whole-bulk rejection' }],
      type: 'illegal_argument_exception',
      reason: 'stand-in injected whole-bulk rejection',
    },
    status: 400,
  },
  500: {
    error: {
      root_cause: [{ type: 'exception', reason: 'stand-in injected failure' }],
      type: 'exception',
      reason: 'stand-in injected failure',
    },
    status: 500,
  },
  503: {
    error: {
      root_cause: [{ type: 'cluster_block_exception', reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];' }],
      type: 'cluster_block_exception',
      reason: 'blocked by: [SERVICE_UNAVAILABLE/2/no master];',
    },
    status: 503,
  },
};

/** A load balancer's error page, as nginx sends it during a rollout. */
export function htmlPage(status: number): string {
  const title = `${status} ${status === 404 ? 'Not Found' : status === 413 ? 'Request Entity Too Large' : status === 502 ? 'Bad Gateway' : 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
}
