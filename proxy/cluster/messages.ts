import type { JSONSchemaType } from 'ajv';

import type { SidecarConfig } from '../../config/schema';
import type { Readiness } from '../../core/admin-server';
import { type Checked, isRecord, schemaCheck } from '../../core/parse';

/*
 * What the primary of server.workers and its workers say over the cluster's IPC channel. prom-client's
 * AggregatorRegistry shares the channel with its own `prom-client:*` messages, which these parsers ignore.
 */

/** Primary to worker: the configuration to run (the primary loaded it; `start` filled in what it generated). */
interface ConfigMessage {
  readonly type: 'apm-sidecar:config';
  readonly config: SidecarConfig;
}

/** The same as the worker receives it: an object still to be validated (loadConfig) before it is trusted. */
interface ReceivedConfig {
  readonly type: 'apm-sidecar:config';
  readonly config: Record<string, unknown>;
}

/** Primary to worker: answer with your readiness. */
interface ReadinessRequest {
  readonly type: 'apm-sidecar:readiness-request';
  readonly requestId: number;
}

/** Worker to primary: the intake listener is open (every worker reports the same shared address). */
interface ListeningMessage {
  readonly type: 'apm-sidecar:listening';
  readonly host: string;
  readonly port: number;
}

/** Worker to primary: it could not start, with the error's code, message (redacted) and remediation. */
interface FatalMessage {
  readonly type: 'apm-sidecar:fatal';
  readonly code: string;
  readonly message: string;
  readonly remediation?: string;
}

interface ReadinessAnswer {
  readonly type: 'apm-sidecar:readiness';
  readonly requestId: number;
  readonly readiness: Readiness;
}

export type WorkerMessage = ListeningMessage | FatalMessage | ReadinessAnswer;
export type PrimaryMessage = ConfigMessage | ReadinessRequest;

const readinessSchema: JSONSchemaType<Readiness> = {
  type: 'object',
  properties: {
    ready: { type: 'boolean' },
    reasons: { type: 'array', items: { type: 'string' } },
    details: { type: 'object', required: [] },
  },
  required: ['ready', 'reasons', 'details'],
};

const checks = {
  listening: schemaCheck<ListeningMessage>({
    type: 'object',
    properties: {
      type: { type: 'string', const: 'apm-sidecar:listening' },
      host: { type: 'string' },
      port: { type: 'integer' },
    },
    required: ['type', 'host', 'port'],
  }),
  fatal: schemaCheck<FatalMessage>({
    type: 'object',
    properties: {
      type: { type: 'string', const: 'apm-sidecar:fatal' },
      code: { type: 'string' },
      message: { type: 'string' },
      remediation: { type: 'string', nullable: true },
    },
    required: ['type', 'code', 'message'],
  }),
  readiness: schemaCheck<ReadinessAnswer>({
    type: 'object',
    properties: {
      type: { type: 'string', const: 'apm-sidecar:readiness' },
      requestId: { type: 'integer' },
      readiness: readinessSchema,
    },
    required: ['type', 'requestId', 'readiness'],
  }),
  config: schemaCheck<ReceivedConfig>({
    type: 'object',
    properties: {
      type: { type: 'string', const: 'apm-sidecar:config' },
      config: { type: 'object', required: [] },
    },
    required: ['type', 'config'],
  }),
  readinessRequest: schemaCheck<ReadinessRequest>({
    type: 'object',
    properties: {
      type: { type: 'string', const: 'apm-sidecar:readiness-request' },
      requestId: { type: 'integer' },
    },
    required: ['type', 'requestId'],
  }),
};

function valueOf<T>(checked: Checked<T>): T | undefined {
  return checked.ok ? checked.value : undefined;
}

/** One of ours from a worker, or undefined for anything else (prom-client's, or not understood). */
export function parseWorkerMessage(message: unknown): WorkerMessage | undefined {
  if (!isRecord(message)) return undefined;
  switch (message.type) {
    case 'apm-sidecar:listening':
      return valueOf(checks.listening(message));
    case 'apm-sidecar:fatal':
      return valueOf(checks.fatal(message));
    case 'apm-sidecar:readiness':
      return valueOf(checks.readiness(message));
    default:
      return undefined;
  }
}

/** One of ours from the primary, or undefined. */
export function parsePrimaryMessage(message: unknown): ReceivedConfig | ReadinessRequest | undefined {
  if (!isRecord(message)) return undefined;
  switch (message.type) {
    case 'apm-sidecar:config':
      return valueOf(checks.config(message));
    case 'apm-sidecar:readiness-request':
      return valueOf(checks.readinessRequest(message));
    default:
      return undefined;
  }
}
