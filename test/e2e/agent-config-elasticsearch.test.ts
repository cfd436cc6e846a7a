import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';

import type { Client, estypes } from '@elastic/elasticsearch';

import { agentConfigReaderRole } from '../../elasticsearch/setup/roles';
import { testPki } from '../support/certs';
import { provisionTestPrincipals, type TestPrincipals, testWriterRoleName } from '../support/elasticsearch/principals';
import { type EsCredentials, type EsTarget, esTarget, realTargetAvailable } from '../support/es-target';
import { eventually, httpRequest, type HttpResult, testToken } from '../support/proxy-harness';
import { RedisServer } from '../support/redis';
import { childEnv, proxyEnv, spawnCli, SpawnedProcess } from '../support/spawn-cli';

const configIndex = '.apm-agent-configuration';

/**
 * The index as Kibana creates it (x-pack/plugins/apm .../create_agent_config_index.ts): strict, strings as
 * keyword (so service.name is a keyword, matched exactly), settings free-form.
 */
const kibanaMappings: estypes.MappingTypeMapping = {
  dynamic: 'strict',
  dynamic_templates: [{ strings: { match_mapping_type: 'string', mapping: { type: 'keyword', ignore_above: 1024 } } }],
  properties: {
    '@timestamp': { type: 'date' },
    service: {
      properties: {
        name: { type: 'keyword', ignore_above: 1024 },
        environment: { type: 'keyword', ignore_above: 1024 },
      },
    },
    settings: { dynamic: true, properties: {} },
    applied_by_agent: { type: 'boolean' },
    agent_name: { type: 'keyword', ignore_above: 1024 },
    etag: { type: 'keyword', ignore_above: 1024 },
  },
};

interface ConfigurationIntake {
  readonly service: { readonly name?: string; readonly environment?: string };
  readonly settings: Record<string, string>;
  readonly agent_name?: string;
}

/**
 * What Kibana's createOrUpdateConfiguration writes: a new document for a new configuration, the same _id
 * replaced for an edit, a fresh etag (a sha1 of the intake), applied_by_agent reset, refresh: true. "All"
 * in the UI is stored as an absent service.name / service.environment.
 */
async function kibanaSaves(
  admin: Client,
  intake: ConfigurationIntake,
  id?: string,
): Promise<{ id: string; etag: string }> {
  const etag = createHash('sha1')
    .update(JSON.stringify({ ...intake, at: randomUUID() }))
    .digest('hex');
  const document = { ...intake, '@timestamp': Date.now(), applied_by_agent: false, etag };
  const res = await admin.index({ index: configIndex, ...(id === undefined ? {} : { id }), document, refresh: true });
  return { id: res._id, etag };
}

/** A long-running app with the real agent polling central config (its minimum poll interval is 5 s). */
const pollingApp = `
require('elastic-apm-node').start({
  serviceName: process.env.SERVICE_NAME, environment: 'e2e-es', serverUrl: process.env.SERVER_URL,
  secretToken: process.env.SECRET_TOKEN, serverCaCertFile: process.env.CA_FILE, centralConfig: true,
  metricsInterval: '0s', cloudProvider: 'none', captureExceptions: false, logLevel: 'info', disableInstrumentations: ['http'],
});
setInterval(() => undefined, 1000);
`;

interface RunningProxy {
  readonly process: SpawnedProcess;
  readonly url: string;
  readonly adminUrl: string;
}

(realTargetAvailable() ? describe : describe.skip)(
  'central configuration from a real secured Elasticsearch through the built `apm-sidecar proxy`',
  () => {
    const serviceName = `e2e-es-config-${randomUUID().slice(0, 8)}`;
    const proxyUser = { username: 'apm_sidecar_test_agent_config_proxy', password: 'agent-config-proxy-password' };
    const pki = testPki();
    const spawned: SpawnedProcess[] = [];
    const savedIds: string[] = [];
    let target: EsTarget;
    let admin: Client;
    let principals: TestPrincipals;
    let redis: RedisServer;

    beforeAll(async () => {
      const real = await esTarget('real');
      if (real === undefined) throw new Error('real Elasticsearch unavailable');
      target = real;
      principals = await provisionTestPrincipals(target);
      admin = target.client();
      // The least privilege a proxy serving central config holds: the writer role plus the product's
      // agent-config reader role, under test names (the product's own role names belong to the setup suite).
      await admin.security.putRole({ name: 'apm_sidecar_test_agent_config_reader_role', ...agentConfigReaderRole });
      await admin.security.putUser({
        ...proxyUser,
        roles: [testWriterRoleName, 'apm_sidecar_test_agent_config_reader_role'],
      });
      // Shared by the run and never deleted: another suite may have created it first (then 400, kept as is).
      await admin.indices.create({ index: configIndex, mappings: kibanaMappings }, { ignore: [400] });
      redis = await RedisServer.start();
    }, 240_000);

    afterAll(async () => {
      await Promise.allSettled(spawned.map((p) => p.stop('SIGKILL')));
      await Promise.allSettled(savedIds.map((id) => admin.delete({ index: configIndex, id, refresh: true })));
      await redis?.destroy();
      await target?.close();
    });

    async function startProxy(credentials: EsCredentials, label: string): Promise<RunningProxy> {
      const proxy = spawnCli(
        ['proxy'],
        proxyEnv(redis.url, {
          APM_SIDECAR_QUEUE: `agent-config-es-${label}-${process.pid}`,
          APM_SIDECAR_ES_HOSTS: target.url,
          APM_SIDECAR_ES_USERNAME: credentials.username ?? '',
          APM_SIDECAR_ES_PASSWORD: credentials.password ?? '',
          APM_SIDECAR_ES_CA: target.caFile,
          APM_SIDECAR_AGENT_CONFIG_SOURCE: 'elasticsearch',
          APM_SIDECAR_AGENT_CONFIG_CACHE_EXPIRATION: '2s',
        }),
      );
      spawned.push(proxy);
      await proxy.waitFor(/"message":"admin listening/, 30_000);
      const port = Number(proxy.logLines().find((l) => l.msg === 'intake listening')?.port);
      const adminPort = Number(proxy.logLines().find((l) => String(l.msg).startsWith('admin listening'))?.port);
      return { process: proxy, url: `https://localhost:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` };
    }

    function configRequest(proxy: RunningProxy, environment: string, ifNoneMatch?: string): Promise<HttpResult> {
      const query = new URLSearchParams({ 'service.name': serviceName, 'service.environment': environment });
      const headers: Record<string, string> = {
        authorization: `Bearer ${testToken}`,
        ...(ifNoneMatch === undefined ? {} : { 'if-none-match': ifNoneMatch }),
      };
      return httpRequest(`${proxy.url}/config/v1/agents?${query.toString()}`, { headers });
    }

    async function notModifiedCount(proxy: RunningProxy): Promise<number> {
      const metrics = await httpRequest(`${proxy.adminUrl}/metrics`);
      const match = /apm_sidecar_agent_config_requests_total\{result="not_modified"[^}]*\} (\d+)/.exec(metrics.body);
      return Number(match?.[1] ?? 0);
    }

    function startAgent(proxy: RunningProxy): SpawnedProcess {
      const agent = new SpawnedProcess(
        spawn(process.execPath, ['-e', pollingApp], {
          cwd: path.resolve(__dirname, '../..'),
          env: childEnv({
            SERVER_URL: proxy.url,
            SECRET_TOKEN: testToken,
            CA_FILE: pki.caFile,
            SERVICE_NAME: serviceName,
          }),
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
      spawned.push(agent);
      return agent;
    }

    it('the real agent applies a Kibana configuration, gets 304 while it is unchanged, and applies an edit within a few polls', async () => {
      const exact = await kibanaSaves(admin, {
        service: { name: serviceName, environment: 'e2e-es' },
        settings: { transaction_sample_rate: '0.5' },
        agent_name: 'nodejs',
      });
      // "All environments" for the same service: Kibana leaves service.environment out of the document.
      const anyEnvironment = await kibanaSaves(admin, {
        service: { name: serviceName },
        settings: { transaction_sample_rate: '0.1' },
      });
      savedIds.push(exact.id, anyEnvironment.id);

      const proxy = await startProxy(proxyUser, 'reader');
      const agent = startAgent(proxy);
      await agent.waitFor(/Central config success: updated transactionSampleRate: 0\.5/, 30_000);

      const direct = await configRequest(proxy, 'e2e-es');
      expect({ status: direct.status, etag: direct.headers.etag, body: JSON.parse(direct.body) as unknown }).toEqual({
        status: 200,
        etag: `"${exact.etag}"`,
        body: { transaction_sample_rate: '0.5' },
      });
      expect(direct.headers['cache-control']).toBe('max-age=2, must-revalidate');
      expect((await configRequest(proxy, 'e2e-es', `"${exact.etag}"`)).status).toBe(304);
      const notModifiedSoFar = await notModifiedCount(proxy);
      const other = await configRequest(proxy, 'elsewhere');
      expect({ status: other.status, etag: other.headers.etag, body: JSON.parse(other.body) as unknown }).toEqual({
        status: 200,
        etag: `"${anyEnvironment.etag}"`,
        body: { transaction_sample_rate: '0.1' },
      });

      // The agent polls again (after max(max-age, 5 s)) with If-None-Match; the proxy answers 304.
      await eventually(
        async () => ((await notModifiedCount(proxy)) > notModifiedSoFar ? true : undefined),
        30_000,
        'a 304 to the agent',
      );

      const edited = await kibanaSaves(
        admin,
        {
          service: { name: serviceName, environment: 'e2e-es' },
          settings: { transaction_sample_rate: '0.25' },
          agent_name: 'nodejs',
        },
        exact.id,
      );
      await agent.waitFor(/Central config success: updated transactionSampleRate: 0\.25/, 30_000);
      const after = await configRequest(proxy, 'e2e-es', `"${exact.etag}"`);
      expect({ status: after.status, etag: after.headers.etag }).toEqual({ status: 200, etag: `"${edited.etag}"` });

      expect(proxy.process.logLines().filter((l) => l.level === 'error')).toEqual([]);
      expect(proxy.process.stdout).not.toContain(testToken);
      expect(proxy.process.stdout).not.toContain(proxyUser.password);
    }, 60_000);

    it('with a credential lacking read on .apm-agent-configuration: 503, never a configuration, and the log names the privilege and the fix', async () => {
      const proxy = await startProxy(principals.writer, 'writer');
      const res = await configRequest(proxy, 'e2e-es');
      expect({ status: res.status, body: JSON.parse(res.body) as unknown }).toEqual({
        status: 503,
        body: { error: expect.any(String) as unknown },
      });
      expect(res.headers.etag).toBeUndefined();

      // Logged once when the proxy first reads the index (per-request 503s are debug: they repeat the same cause).
      const failures = proxy.process
        .logLines()
        .filter((l) => String(l.msg).startsWith(`agent configuration could not be read from ${configIndex}`));
      expect(failures.map((l) => l.level)).toEqual(['error']);
      expect(String(failures[0]?.msg)).toContain(`"read" index privilege on ${configIndex}`);
      expect(String(failures[0]?.msg)).toContain('allow_restricted_indices');
      expect(proxy.process.stdout).not.toContain(principals.writer.password ?? '-');
    }, 60_000);
  },
);
