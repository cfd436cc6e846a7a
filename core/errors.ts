/**
 * The operator error catalogue: every failure an operator reads (refused to start, an Elasticsearch precondition,
 * a bug) has a stable code here with its default message, whether retrying can help, and the remediation. None
 * has an HTTP status: what an agent is answered is the agent result table's (core/results.ts), whose failures
 * carry codes too; `SidecarError` takes a code of either. docs/errors.md is generated from both (npm run docs).
 */

import { redact } from './redact';
import { type AgentErrorCode, agentResults, isAgentErrorCode, resultOfCode } from './results';

export interface ErrorSpec {
  readonly message: string;
  /** True when the same operation may succeed later (outages). */
  readonly retryable: boolean;
  /** When it happens and what to do; shown after "To remediate:" unless the error names its own fix. */
  readonly remediation: string;
}

export const errorCatalogue = {
  SIDECAR_ERR_CONFIG_INVALID: {
    message: 'invalid configuration',
    retryable: false,
    remediation: 'A key is unknown or has a bad value; the message names the key and the fix.',
  },
  SIDECAR_ERR_INSECURE_CREDENTIALS: {
    message: 'credentials are configured but TLS is off',
    retryable: false,
    remediation:
      'A secret token or API key without TLS protects nothing. Configure server.ssl.* or set server.auth.allow_insecure: true.',
  },
  SIDECAR_ERR_LISTEN_FAILED: {
    message: 'cannot listen on the configured address',
    retryable: false,
    remediation:
      'The address of server.host (APM_SIDECAR_HOST) or admin.host (APM_SIDECAR_ADMIN_HOST) is taken by another process (EADDRINUSE), privileged or not on this machine. The message names the key.',
  },
  SIDECAR_ERR_DATA_DIR_IN_USE: {
    message: 'the data directory is in use by another apm-sidecar start',
    retryable: false,
    remediation:
      'A running `apm-sidecar start` owns path.data (its pid is in path.data/start.pid). Stop it, or give this one another path.data (APM_SIDECAR_DATA).',
  },
  SIDECAR_ERR_CONFIRMATION_REQUIRED: {
    message: 'this command deletes data and needs a confirmation',
    retryable: false,
    remediation:
      'Run it on a terminal and answer the question, or pass the flag the message names (e.g. `apm-sidecar dlq purge --yes`) where no one can answer (a script, CI, `docker compose run -T`).',
  },
  SIDECAR_ERR_DLQ_FULL: {
    message: 'the dead-letter queue is full',
    retryable: true,
    remediation:
      'queue.dead_letter.max_entries documents are dead-lettered and queue.dead_letter.when_full is block: forwarders stop taking jobs (nothing is dropped) and the queue backs up until `apm-sidecar dlq replay` or `purge` makes room, or max_entries is raised.',
  },
  SIDECAR_ERR_REDIS_POLICY: {
    message: 'Redis must run with maxmemory-policy noeviction',
    retryable: false,
    remediation:
      'Any eviction policy can silently drop queued events. Run CONFIG SET maxmemory-policy noeviction (and persist it).',
  },
  SIDECAR_ERR_REDIS_DURABILITY: {
    message: 'Redis cannot provide the configured queue.durability',
    retryable: false,
    remediation:
      'queue.durability fsync needs appendonly yes + appendfsync always; replicated needs enough connected replicas.',
  },
  SIDECAR_ERR_ES_UNAVAILABLE: {
    message: 'Elasticsearch is unavailable',
    retryable: true,
    remediation: 'The cluster could not be reached (connection refused, timeout, TLS failure).',
  },
  SIDECAR_ERR_ES_NOT_ELASTICSEARCH: {
    message: 'the server at output.elasticsearch.hosts is not Elasticsearch',
    retryable: false,
    remediation: 'The response lacked the x-elastic-product: Elasticsearch header. Check the host and port.',
  },
  SIDECAR_ERR_ES_AUTH: {
    message: 'Elasticsearch rejected the credentials',
    retryable: false,
    remediation: 'output.elasticsearch username/password or api_key are wrong or expired.',
  },
  SIDECAR_ERR_ES_PRIVILEGES: {
    message: 'the Elasticsearch credential lacks required privileges',
    retryable: false,
    remediation: 'The message names each missing privilege; apm-sidecar setup creates the writer role that has them.',
  },
  SIDECAR_ERR_ES_TLS: {
    message: 'the TLS connection to Elasticsearch could not be verified',
    retryable: false,
    remediation:
      "The cluster's certificate is not signed by output.elasticsearch.ssl.certificate_authorities, does not match ca_trusted_fingerprint or the host name, or the host speaks plain HTTP. The message names which.",
  },
  SIDECAR_ERR_ES_REQUEST_REJECTED: {
    message: 'Elasticsearch rejected a request',
    retryable: false,
    remediation:
      "A setup or check request got a 4xx other than 401/403 (for example an invalid template); the message carries Elasticsearch's reason.",
  },
} as const satisfies Record<string, ErrorSpec>;

type OperatorErrorCode = keyof typeof errorCatalogue;
export type ErrorCode = OperatorErrorCode | AgentErrorCode;

export interface SidecarErrorOptions {
  readonly cause?: unknown;
  /** What an operator should do about it ("grant create_doc on traces-apm*"). */
  readonly remediation?: string;
}

/** The one error type with a code; an agent-facing code answers with its result, any other as internal_error. */
export class SidecarError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly remediation: string | undefined;

  constructor(code: ErrorCode, message?: string, options: SidecarErrorOptions = {}) {
    const agent = isAgentErrorCode(code) ? agentResults[resultOfCode[code]] : undefined;
    const spec = isAgentErrorCode(code) ? undefined : errorCatalogue[code];
    super(
      message ?? agent?.message ?? spec?.message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'SidecarError';
    this.code = code;
    this.retryable = spec?.retryable ?? (agent !== undefined && 'retryAfter' in agent);
    this.remediation = options.remediation;
  }
}

export function isSidecarError(err: unknown): err is SidecarError {
  return err instanceof SidecarError;
}

/** An operator-facing message: what failed, why, and the fix. */
export function describeForOperator(err: unknown): string {
  if (isSidecarError(err)) {
    const fix =
      err.remediation ??
      (isAgentErrorCode(err.code)
        ? agentResults[resultOfCode[err.code]].description
        : errorCatalogue[err.code].remediation);
    return redact(`${err.code}: ${err.message}. To remediate: ${fix}`);
  }
  return redact(err instanceof Error ? err.message : String(err));
}
