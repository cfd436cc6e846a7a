import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { Client } from '@elastic/elasticsearch';
import { Registry } from 'prom-client';

import { loadConfig } from '../../../config/load';
import { type AgentConfigEndpoint, createAgentConfigEndpoint } from '../../../proxy/agent-config';
import { agentConfigRoute } from '../../../proxy/agent-config/route';
import { testPki } from '../../support/certs';
import { LogSink } from '../../support/log-sink';
import { serveRoute, startTlsServer, type TestServer, tlsRequest, waitFor } from './https-harness';

const token = { kind: 'secret_token', id: '0' } as const;

interface Running {
  readonly endpoint: AgentConfigEndpoint;
  readonly server: TestServer;
  readonly sink: LogSink;
  readonly registry: Registry;
}

const running: Running[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

async function serve(overrides: Record<string, unknown>, esClient?: Client): Promise<Running> {
  const config = loadConfig({ env: {}, overrides }).config;
  const sink = new LogSink();
  const registry = new Registry();
  const endpoint = createAgentConfigEndpoint(config, {
    logger: sink.logger(),
    registry,
    ...(esClient === undefined ? {} : { esClient }),
  });
  await endpoint.start();
  const server = await startTlsServer(serveRoute(agentConfigRoute(endpoint), token, sink.logger()));
  const r = { endpoint, server, sink, registry };
  running.push(r);
  return r;
}

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.server.close();
    await r.endpoint.close();
  }
  for (const c of cleanups.splice(0)) await c();
});

function tempFile(content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-config-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'agent-config.yml');
  fs.writeFileSync(file, content);
  return file;
}

const yamlWith = (rate: string): string =>
  `- service: {name: checkout, environment: prod}\n  settings: {transaction_sample_rate: "${rate}"}\n- settings: {log_level: info}\n`;

describe('/config/v1/agents from a file', () => {
  it('answers settings with a quoted ETag and max-age, then 304 for the same etag (header or ifnonematch)', async () => {
    const { server, sink } = await serve({
      agent_config: { source: 'file', file: tempFile(yamlWith('0.5')), cache: { expiration: '7s' } },
    });
    const url = `${server.url}/config/v1/agents?service.name=checkout&service.environment=prod`;
    const first = await tlsRequest(url);
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body.toString())).toEqual({ transaction_sample_rate: '0.5' });
    expect(first.headers['cache-control']).toBe('max-age=7, must-revalidate');
    expect(first.headers['access-control-expose-headers']).toBe('Etag');
    const etag = first.headers.etag ?? '';
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);

    const again = await tlsRequest(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(etag);
    expect((await tlsRequest(`${url}&ifnonematch=${etag.replaceAll('"', '')}`)).status).toBe(304);
    expect((await tlsRequest(url, { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);
    sink.assertNoUnexpectedErrors();
  });

  it('reads POST bodies as agents send them, falls back to the catch-all, and "-" when nothing matches', async () => {
    const { server } = await serve({ agent_config: { source: 'file', file: tempFile(yamlWith('0.5')) } });
    const post = (body: string): ReturnType<typeof tlsRequest> =>
      tlsRequest(`${server.url}/config/v1/agents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const exact = await post('{"service":{"name":"checkout","environment":"prod"},"etag":""}');
    expect(JSON.parse(exact.body.toString())).toEqual({ transaction_sample_rate: '0.5' });
    const other = await post('{"service":{"name":"cart"}}');
    expect(JSON.parse(other.body.toString())).toEqual({ log_level: 'info' });

    const none = await serve({ agent_config: { source: 'file', file: tempFile('[]') } });
    const empty = await tlsRequest(`${none.server.url}/config/v1/agents?service.name=cart`);
    expect([empty.status, empty.headers.etag, empty.body.toString()]).toEqual([200, '"-"', '{}']);
  });

  it('answers 400 without service.name and 405 for other methods, as APM Server does', async () => {
    const { server, registry } = await serve({ agent_config: { source: 'file', file: tempFile(yamlWith('0.5')) } });
    const missing = await tlsRequest(`${server.url}/config/v1/agents`);
    expect(missing.status).toBe(400);
    expect(JSON.parse(missing.body.toString())).toEqual({ error: 'service.name is required' });
    expect(missing.headers['cache-control']).toBe('max-age=300, must-revalidate');
    expect(missing.headers.connection).toBe('close');
    const put = await tlsRequest(`${server.url}/config/v1/agents?service.name=a`, { method: 'PUT' });
    expect([put.status, JSON.parse(put.body.toString())]).toEqual([405, { error: 'method not supported: PUT' }]);
    expect(await registry.getSingleMetricAsString('apm_sidecar_agent_config_requests_total')).toContain(
      'result="invalid_query"} 1',
    );
  });

  it('picks up an edited file within one cache period, and keeps serving the last good one through a broken edit', async () => {
    const file = tempFile(yamlWith('0.5'));
    const { server, sink } = await serve({ agent_config: { source: 'file', file, cache: { expiration: '1s' } } });
    const url = `${server.url}/config/v1/agents?service.name=checkout&service.environment=prod`;
    const rate = async (): Promise<unknown> =>
      (JSON.parse((await tlsRequest(url)).body.toString()) as Record<string, unknown>).transaction_sample_rate;
    expect(await rate()).toBe('0.5');
    // Replaced by rename, as editors and Kubernetes config maps do.
    fs.writeFileSync(`${file}.new`, yamlWith('0.25'));
    fs.renameSync(`${file}.new`, file);
    await waitFor(async () => ((await rate()) === '0.25' ? true : undefined), 15_000, 'the new rate');
    fs.writeFileSync(file, 'this: [is not');
    // The cache re-reads lazily, on the first poll after a change: poll until the broken edit has been seen.
    await waitFor(
      async () => {
        expect(await rate()).toBe('0.25');
        return sink.errors().length > 0 ? true : undefined;
      },
      15_000,
      'the reload error',
    );
    sink.assertNoUnexpectedErrors([/could not be reloaded/]);
  });

  it('answers 403 "disabled" with source none, and refuses to build with a source that lacks its key', async () => {
    const { server } = await serve({});
    const res = await tlsRequest(`${server.url}/config/v1/agents?service.name=a`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString())).toEqual({
      error: expect.stringContaining('Agent remote configuration is disabled') as unknown,
    });
    const config = loadConfig({ env: {}, overrides: { agent_config: { source: 'file' } } }).config;
    expect(() => createAgentConfigEndpoint(config, { logger: new LogSink().logger() })).toThrow(
      /agent_config.file is not set/,
    );
  });
});

/** An Elasticsearch-shaped server for .apm-agent-configuration: counts searches, can refuse or go away. */
class FakeAgentConfigIndex {
  searches = 0;
  status = 200;
  docs: unknown[] = [];
  private readonly server = http.createServer((req, res) => {
    req.resume();
    this.searches += req.url?.startsWith('/.apm-agent-configuration/_search') === true ? 1 : 0;
    const body =
      this.status === 200
        ? {
            took: 1,
            timed_out: false,
            hits: {
              total: { value: this.docs.length, relation: 'eq' },
              hits: this.docs.map((d, i) => ({ _id: String(i), _source: d })),
            },
          }
        : {
            error: {
              type: this.status === 404 ? 'index_not_found_exception' : 'security_exception',
              reason: 'refused',
            },
            status: this.status,
          };
    res
      .writeHead(this.status, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' })
      .end(JSON.stringify(body));
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('/config/v1/agents from .apm-agent-configuration', () => {
  const kibanaDoc = (rate: string, etag: string): unknown => ({
    service: { name: 'checkout' },
    settings: { transaction_sample_rate: rate },
    etag,
    agent_name: 'nodejs',
    applied_by_agent: false,
  });

  async function withIndex(): Promise<{ index: FakeAgentConfigIndex; client: Client }> {
    const index = new FakeAgentConfigIndex();
    const client = new Client({ node: await index.start(), maxRetries: 0, requestTimeout: 2000 });
    cleanups.push(async () => {
      await client.close();
      await index.stop().catch(() => undefined);
    });
    return { index, client };
  }

  it("asks the cluster once per cache period however many agents poll, and serves Kibana's etag", async () => {
    const { index, client } = await withIndex();
    index.docs = [kibanaDoc('0.1', 'kibana-etag-1')];
    const { server, sink } = await serve(
      { agent_config: { source: 'elasticsearch', cache: { expiration: '10m' } } },
      client,
    );
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => tlsRequest(`${server.url}/config/v1/agents?service.name=checkout`)),
    );
    expect(new Set(answers.map((a) => a.headers.etag))).toEqual(new Set(['"kibana-etag-1"']));
    expect(index.searches).toBe(1);
    sink.assertNoUnexpectedErrors();
  });

  it('serves a configuration changed in Kibana after the cache period', async () => {
    const { index, client } = await withIndex();
    index.docs = [kibanaDoc('0.1', 'kibana-etag-1')];
    const { server, sink } = await serve(
      { agent_config: { source: 'elasticsearch', cache: { expiration: '1s' } } },
      client,
    );
    const url = `${server.url}/config/v1/agents?service.name=checkout`;
    expect((await tlsRequest(url)).headers.etag).toBe('"kibana-etag-1"');
    index.docs = [kibanaDoc('0.9', 'kibana-etag-2')];
    const changed = await waitFor(
      async () => {
        const a = await tlsRequest(url);
        return a.headers.etag === '"kibana-etag-2"' ? a : undefined;
      },
      10_000,
      'the changed configuration',
    );
    expect(JSON.parse(changed.body.toString())).toEqual({ transaction_sample_rate: '0.9' });
    sink.assertNoUnexpectedErrors();
  });

  it('keeps serving the last good answer while the cluster is down', async () => {
    const { index, client } = await withIndex();
    index.docs = [kibanaDoc('0.1', 'e1')];
    const { server, sink } = await serve(
      { agent_config: { source: 'elasticsearch', cache: { expiration: '1s' } } },
      client,
    );
    const url = `${server.url}/config/v1/agents?service.name=checkout`;
    expect((await tlsRequest(url)).status).toBe(200);
    await index.stop();
    await waitFor(
      async () => {
        const during = await tlsRequest(url);
        expect([during.status, during.headers.etag]).toEqual([200, '"e1"']);
        return sink.lines.some((l) => l.level === 'warn' && /refresh failed/.test(String(l.msg))) ? true : undefined;
      },
      10_000,
      'a failed refresh',
    );
    sink.assertNoUnexpectedErrors();
  });

  it('says which privilege is missing when the credential cannot read the index, and answers 503 until it can', async () => {
    const { index, client } = await withIndex();
    index.status = 403;
    const { server, sink } = await serve({ agent_config: { source: 'elasticsearch' } }, client);
    expect(
      sink
        .errors()
        .map((l) => String(l.msg))
        .join('\n'),
    ).toMatch(/"read" index privilege on \.apm-agent-configuration/);
    const res = await tlsRequest(`${server.url}/config/v1/agents?service.name=checkout`);
    expect([res.status, JSON.parse(res.body.toString())]).toEqual([503, { error: 'service unavailable' }]);
    sink.assertNoUnexpectedErrors([/could not be read from \.apm-agent-configuration/]);
  });

  it('treats a missing index as "no configuration yet"', async () => {
    const { index, client } = await withIndex();
    index.status = 404;
    const { server } = await serve({ agent_config: { source: 'elasticsearch' } }, client);
    const res = await tlsRequest(`${server.url}/config/v1/agents?service.name=checkout`);
    expect([res.status, res.headers.etag, res.body.toString()]).toEqual([200, '"-"', '{}']);
  });
});

describe('/config/v1/agents from the upstream', () => {
  it('asks the upstream with its own credential, once per period per service, and answers 304 itself', async () => {
    const seen: Array<string | undefined> = [];
    const upstream = await startTlsServer((req, res) => {
      seen.push(req.headers.authorization);
      res
        .writeHead(200, { 'content-type': 'application/json', etag: '"up-1"' })
        .end('{"transaction_sample_rate":"0.7"}');
    });
    cleanups.push(() => upstream.close());
    const { server, sink } = await serve({
      agent_config: { source: 'upstream' },
      upstream: {
        url: upstream.url,
        secret_token: 'upstream-token',
        ssl: { certificate_authorities: [testPki().caFile] },
      },
    });
    const url = `${server.url}/config/v1/agents?service.name=checkout`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => tlsRequest(url)));
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    expect(JSON.parse(answers[0]?.body.toString() ?? '')).toEqual({ transaction_sample_rate: '0.7' });
    expect((await tlsRequest(url, { headers: { 'if-none-match': '"up-1"' } })).status).toBe(304);
    expect(seen).toEqual(['Bearer upstream-token']);
    sink.assertNoUnexpectedErrors();
  });
});
