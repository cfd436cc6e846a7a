import fs from 'node:fs';

import { type Client, errors } from '@elastic/elasticsearch';

import { loadConfig } from '../../config/load';
import { type EsConnection, runtimeConfig } from '../../config/runtime';
import type { SidecarConfig } from '../../config/schema';
import { createEsClient } from '../../elasticsearch/client';
import { announceOncePerRun } from './elasticsearch/run-files';
import { realNodeRunnable, startRealNodeTarget } from './elasticsearch/target';
import { EsStandin } from './es-standin/server';

export type EsOutputConfig = SidecarConfig['output']['elasticsearch'];

/** A credential as the product takes it: basic auth or an API key ("id:key" or base64). */
export interface EsCredentials {
  readonly username?: string;
  readonly password?: string;
  readonly apiKey?: string;
}

export type EsTargetKind = 'standin' | 'real';

/**
 * Parts of a full Elasticsearch a target may lack. ilm: `_ilm/*`; data_stream_api: `_data_stream`; root_info:
 * `GET /`; mapper_extras: scaled_float, match_only_text (and constant_keyword, wildcard, version, ... from x-pack).
 */
export type MissingModule = 'ilm' | 'data_stream_api' | 'root_info' | 'mapper_extras';

/**
 * An Elasticsearch a suite runs against. `standin` is set only for the stand-in (faults, counters); suites
 * that need faults ask for 'standin', suites that prove behaviour against real security ask for 'real'.
 */
export interface EsTarget {
  readonly kind: EsTargetKind;
  /** 'standin', 'integ-test-zip <version>', 'ES_URL', or 'testcontainers <image>'. */
  readonly description: string;
  readonly url: string;
  readonly caFile: string;
  readonly admin: EsCredentials;
  readonly standin: EsStandin | undefined;
  /** Modules this target lacks (the integ-test-zip: see test/support/README.md). */
  readonly lacks: ReadonlySet<MissingModule>;
  /** The product's output config for `credentials` (everything else at its defaults). */
  output(credentials: EsCredentials): EsOutputConfig;
  /** A client made by the product's own createEsClient. */
  client(credentials?: EsCredentials): Client;
  close(): Promise<void>;
}

export function outputConfig(url: string, caFile: string | undefined, credentials: EsCredentials): EsOutputConfig {
  const overrides = {
    output: {
      elasticsearch: {
        hosts: [url],
        username: credentials.username ?? null,
        password: credentials.password ?? null,
        api_key: credentials.apiKey ?? null,
        ssl: { certificate_authorities: caFile === undefined ? [] : [caFile] },
      },
    },
  };
  return loadConfig({ env: {}, overrides }).config.output.elasticsearch;
}

/** An output.elasticsearch section as createEsClient takes it (its durations parsed by config/runtime.ts). */
export function esConnection(output: EsOutputConfig): EsConnection {
  return runtimeConfig(loadConfig({ env: {}, overrides: { output: { elasticsearch: output } } }).config).elasticsearch;
}

export function makeTarget(fields: Omit<EsTarget, 'output' | 'client'>): EsTarget {
  const clients: Client[] = [];
  return {
    ...fields,
    output: (credentials) => outputConfig(fields.url, fields.caFile, credentials),
    client(credentials = fields.admin) {
      const client = createEsClient(esConnection(outputConfig(fields.url, fields.caFile, credentials)));
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await fields.close();
    },
  };
}

export async function startStandinTarget(): Promise<EsTarget> {
  const standin = await EsStandin.start();
  return makeTarget({
    kind: 'standin',
    description: 'stand-in',
    url: standin.url,
    caFile: standin.caFile,
    admin: { username: 'elastic', password: standin.elasticPassword },
    standin,
    lacks: new Set(),
    close: () => standin.close(),
  });
}

/** ES_URL (+ ES_USERNAME/ES_PASSWORD or ES_API_KEY, ES_CA): a cluster someone else runs. */
function externalTarget(): EsTarget | undefined {
  const url = process.env.ES_URL;
  if (url === undefined || url === '') return undefined;
  const caFile = process.env.ES_CA ?? '';
  if (caFile !== '' && !fs.existsSync(caFile)) throw new Error(`ES_CA=${caFile} does not exist`);
  const admin: EsCredentials =
    process.env.ES_API_KEY !== undefined && process.env.ES_API_KEY !== ''
      ? { apiKey: process.env.ES_API_KEY }
      : { username: process.env.ES_USERNAME ?? 'elastic', password: process.env.ES_PASSWORD ?? '' };
  return makeTarget({
    kind: 'real',
    description: 'ES_URL',
    url,
    caFile,
    admin,
    standin: undefined,
    lacks: new Set(),
    close: () => Promise.resolve(),
  });
}

/** For ES_URL: which optional parts the cluster lacks, asked of the cluster itself. */
async function withDetectedModules(target: EsTarget): Promise<EsTarget> {
  const client = target.client();
  const status = (p: Promise<unknown>): Promise<number> =>
    p.then(
      () => 200,
      (err: unknown) => (err instanceof errors.ResponseError ? (err.statusCode ?? 0) : 0),
    );
  const lacks = new Set<MissingModule>();
  if ((await status(client.info())) === 405) lacks.add('root_info').add('mapper_extras');
  if ((await status(client.ilm.getLifecycle())) >= 400) lacks.add('ilm');
  if ((await status(client.indices.getDataStream())) >= 400) lacks.add('data_stream_api');
  return makeTarget({ ...target, lacks });
}

const howToRun =
  'real-Elasticsearch suites skipped: install Java 17+ and Maven (the harness fetches the integ-test-zip), ' +
  'or set ES_URL (+ ES_USERNAME/ES_PASSWORD or ES_API_KEY, ES_CA), or run a Docker engine (and leave APM_SIDECAR_TEST_NO_REAL_ES unset); see test/support/README.md';

/**
 * The target a suite runs against: 'standin' always exists; 'real' is ES_URL when set, else the node this
 * jest run started from the integ-test-zip, else a testcontainers Elasticsearch, else undefined (one line says
 * how to run it; the suite should then skip).
 */
export async function esTarget(kind: EsTargetKind): Promise<EsTarget | undefined> {
  if (kind === 'standin') return startStandinTarget();
  const external = externalTarget();
  const target = external !== undefined ? await withDetectedModules(external) : await startRealNodeTarget();
  if (target === undefined) announceOncePerRun(howToRun);
  return target;
}

/**
 * Synchronous answer to "can this run have a real Elasticsearch?", so a suite can `describe.skip` instead of
 * failing: ES_URL set, or Java + (Maven or a cached zip) for the integ-test-zip, or a Docker socket.
 */
export function realTargetAvailable(): boolean {
  if (process.env.ES_URL !== undefined && process.env.ES_URL !== '') return true;
  const available = process.env.APM_SIDECAR_TEST_NO_REAL_ES !== '1' && realNodeRunnable();
  if (!available) announceOncePerRun(howToRun);
  return available;
}
