import { createHash } from 'node:crypto';

import type { Client } from '@elastic/elasticsearch';

import { classifyEsError, type CredentialSource } from '../errors';

/** One REST call of setup: what --dry-run prints and what the runner sends. */
export interface EsRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: Record<string, unknown>;
}

export interface EsAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** How setup talks to the cluster: sends a request, or (dry run) prints it. */
export interface RequestSender {
  /** Reads: 404 is an answer ("absent"), not an error. */
  read(request: EsRequest): Promise<EsAnswer>;
  write(request: EsRequest): Promise<EsAnswer>;
}

export function formatRequest(request: EsRequest): string {
  return request.body === undefined
    ? `${request.method} ${request.path}`
    : `${request.method} ${request.path}\n${JSON.stringify(request.body, null, 2)}`;
}

/** Sends through the Elasticsearch client; failures become SidecarErrors with their remediation. */
export function clientSender(client: Client, credential: CredentialSource): RequestSender {
  const send = async (request: EsRequest, ignore: number[]): Promise<EsAnswer> => {
    try {
      const res = await client.transport.request(
        { method: request.method, path: request.path, ...(request.body === undefined ? {} : { body: request.body }) },
        { meta: true, ignore },
      );
      const body: unknown = res.body;
      return { status: res.statusCode ?? 0, body };
    } catch (err) {
      throw classifyEsError(err, { credential, action: `${request.method} ${request.path}` });
    }
  };
  return { read: async (request) => send(request, [404]), write: async (request) => send(request, []) };
}

/** A stable digest of a JSON value (keys sorted), kept in _meta/metadata to tell "unchanged" from "updated". */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Reads body[a][b]... without casts; undefined when any step is missing. */
export function pick(body: unknown, ...path: string[]): unknown {
  let node: unknown = body;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    const next: unknown = Object.hasOwn(node, key) ? Reflect.get(node, key) : undefined;
    node = next;
  }
  return node;
}

export function stringAt(body: unknown, ...path: string[]): string | undefined {
  const value = pick(body, ...path);
  return typeof value === 'string' ? value : undefined;
}
