/**
 * The operator error catalogue: every failure an operator reads (refused to start, an Elasticsearch precondition,
 * a bug) has a stable code here with its default message, whether retrying can help, and the remediation. None
 * has an HTTP status: what an agent is answered is the agent result table's (core/results.ts), whose failures
 * carry codes too; `SidecarError` takes a code of either. docs/errors.md is generated from both (npm run docs).
 */

import { redact } from './redact';
import { type AgentErrorCode, agentResults, isAgentErrorCode, resultFor } from './results';

export interface ErrorSpec {
  readonly message: string;
  /** When the same operation may succeed later (outages). */
  readonly retryable?: true;
  /** When it happens and what to do; shown after "To remediate:" unless the error names its own fix. */
  readonly remediation: string;
}

export const errorCatalogue = {
  SIDECAR_ERR_CONFIG_INVALID: {
    message: 'invalid configuration',
    remediation: 'A key is unknown or has a bad value; the message names the key and the fix.',
  },
  SIDECAR_ERR_INSECURE_CREDENTIALS: {
    message: 'credentials are configured but TLS is off',
    remediation:
      'A secret token or API key without TLS protects nothing. Configure server.ssl.* or set server.auth.allow_insecure: true.',
  },
  SIDECAR_ERR_LISTEN_FAILED: {
    message: 'cannot listen on the configured address',
    remediation:
      'The address of server.host (APM_SIDECAR_HOST) or admin.host (APM_SIDECAR_ADMIN_HOST) is taken by another process (EADDRINUSE), privileged or not on this machine. The message names the key.',
  },
  SIDECAR_ERR_DATA_DIR_IN_USE: {
    message: 'the data directory is in use by another apm-sidecar start',
    remediation:
      'A running `apm-sidecar start` owns path.data (its pid is in path.data/start.pid). Stop it, or give this one another path.data (APM_SIDECAR_DATA).',
  },
  SIDECAR_ERR_CONFIRMATION_REQUIRED: {
    message: 'this command deletes data and needs a confirmation',
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
    remediation:
      'Any eviction policy can silently drop queued events. Run CONFIG SET maxmemory-policy noeviction (and persist it).',
  },
  SIDECAR_ERR_REDIS_DURABILITY: {
    message: 'Redis cannot provide the configured queue.durability',
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
    remediation: 'The response lacked the x-elastic-product: Elasticsearch header. Check the host and port.',
  },
  SIDECAR_ERR_ES_AUTH: {
    message: 'Elasticsearch rejected the credentials',
    remediation: 'output.elasticsearch username/password or api_key are wrong or expired.',
  },
  SIDECAR_ERR_ES_PRIVILEGES: {
    message: 'the Elasticsearch credential lacks required privileges',
    remediation: 'The message names each missing privilege; apm-sidecar setup creates the writer role that has them.',
  },
  SIDECAR_ERR_ES_TLS: {
    message: 'the TLS connection to Elasticsearch could not be verified',
    remediation:
      "The cluster's certificate is not signed by output.elasticsearch.ssl.certificate_authorities, does not match ca_trusted_fingerprint or the host name, or the host speaks plain HTTP. The message names which.",
  },
  SIDECAR_ERR_ES_REQUEST_REJECTED: {
    message: 'Elasticsearch rejected a request',
    remediation:
      "A setup or check request got a 4xx other than 401/403 (for example an invalid template); the message carries Elasticsearch's reason.",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue | AgentErrorCode;

/**
 * Codes of errors that stay inside: a boundary's parse failure that one caller turns into an agent answer, a
 * retried bulk or a failed job, and the markers between pieces. Never an operator error by themselves, so they are
 * not SidecarErrors (which a handler would answer as they are); their code names them in logs (`error.code`).
 * Whether one is retried is its catcher's decision (the batcher retries a bulk, the forwarder fails a job).
 */
export const internalErrorCatalogue = {
  SIDECAR_ERR_JOB_CONTRACT:
    'A job read back from Redis does not match the intake job contract (queue/contract.ts): a job of another version or written by hand. The forwarder moves it to the failed set for inspection.',
  SIDECAR_ERR_JOB_HANDED_BACK:
    'The forwarder handed a job back to the queue (shutdown) while it was being sent: nothing more of it is sent, another forwarder takes it.',
  SIDECAR_ERR_BULK_RESPONSE:
    'A _bulk answer that is not what Elasticsearch sends (items missing or unnamed): the bulk is retried.',
  SIDECAR_ERR_DEAD_LETTER_ENTRY:
    'A dead-letter entry or replay job read back from Redis that is not one (queue/dead-letter/entry.ts); `dlq` names it.',
  SIDECAR_ERR_AGENT_CONFIG_DOCUMENT:
    'A document of .apm-agent-configuration (or the upstream answer) that is not an agent configuration; answered as agent_config_unavailable with the document named in the log.',
  SIDECAR_ERR_OTLP_DECODE: 'An OTLP export request that does not decode; answered as otlp_invalid naming the field.',
  SIDECAR_ERR_BODY_STREAM:
    'Reading a request body failed (the socket broke): told apart from a decompression error, answered as the stream error it wraps.',
  SIDECAR_ERR_BODY_INCOMPLETE:
    'The client closed the connection before the whole body arrived, or the proxy cut it off (read timeout, shutdown); nothing of it is queued.',
  SIDECAR_ERR_QUEUE_CONDITION:
    'Why the queue refused a request (its depth, Redis gone, the durability it lacks, too few replicas acknowledging): the cause of queue_full, queue_unavailable and queue_not_durable.',
  SIDECAR_ERR_THROWN_VALUE: 'A library threw or rejected with a value that is not an Error; its text is the message.',
} as const satisfies Record<string, string>;

/** An Error with a code, named for its class. */
class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** An error that stays inside the process, with a stable code from the internal catalogue above. */
export class InternalError extends CodedError<keyof typeof internalErrorCatalogue> {}

/**
 * Stands in for one of Node's socket or TLS errors where we detect the failure ourselves (a connect timeout, a
 * chain checked against a pinned CA): it carries Node's or OpenSSL's code (ETIMEDOUT, UNABLE_TO_GET_ISSUER_CERT),
 * which the Elasticsearch client and elasticsearch/errors.ts read as they read Node's own.
 */
export class SystemError extends CodedError<string> {}

/** A thrown value as an Error: itself when it is one, else SIDECAR_ERR_THROWN_VALUE with its text. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new InternalError('SIDECAR_ERR_THROWN_VALUE', String(value));
}

/** The one error type with a code; an agent-facing code answers with its result, any other as internal_error. */
export class SidecarError extends Error {
  readonly retryable: boolean;
  readonly remediation: string | undefined;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    /** remediation: what an operator should do about it ("grant create_doc on traces-apm*"). */
    options: { readonly cause?: unknown; readonly remediation?: string } = {},
  ) {
    const spec: { message: string; retryable?: boolean; retryAfter?: number } = isAgentErrorCode(code)
      ? agentResults[resultFor(code)]
      : errorCatalogue[code];
    super(message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SidecarError';
    this.retryable = spec.retryable ?? spec.retryAfter !== undefined;
    this.remediation = options.remediation;
  }
}

/** An operator-facing message: what failed, why, and the fix. */
export function describeForOperator(err: unknown): string {
  if (!(err instanceof SidecarError)) return redact(err instanceof Error ? err.message : String(err));
  const fix =
    err.remediation ??
    (isAgentErrorCode(err.code) ? agentResults[resultFor(err.code)].description : errorCatalogue[err.code].remediation);
  return redact(`${err.code}: ${err.message}. To remediate: ${fix}`);
}
