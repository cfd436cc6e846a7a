import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Client } from '@elastic/elasticsearch';

import { collectChecks } from '../../../cli/check';
import type { CheckResult } from '../../../cli/check/checks';
import { loadConfig } from '../../../config/load';
import { describeForOperator } from '../../../core/errors';
import { createEsClient } from '../../../elasticsearch/client';
import { classifyEsError } from '../../../elasticsearch/errors';
import { missingPrivileges, writerPrivileges } from '../../../elasticsearch/privileges';
import { clientSender } from '../../../elasticsearch/setup/requests';
import { apmIndexPatterns, writerRoleName } from '../../../elasticsearch/setup/roles';
import { dryRunSender, runSetupSteps, type SetupOptions } from '../../../elasticsearch/setup/runner';
import type { StepResult } from '../../../elasticsearch/setup/steps';
import { createApiKeyVerifier } from '../../../proxy/auth/api-key-verifier';
import { certificateFingerprint, createCertificateAuthority } from '../../../tls/local-ca';
import { testPki } from '../../support/certs';
import { esConnection, type EsTarget, esTarget, realTargetAvailable } from '../../support/es-target';
import { LogSink } from '../../support/log-sink';

const kind = realTargetAvailable() ? 'real' : 'standin';
const baseOptions: SetupOptions = { dryRun: false, createWriterApiKey: false, agentConfigFromElasticsearch: false };
const patterns = [...apmIndexPatterns];

async function setup(
  target: EsTarget,
  options: Partial<SetupOptions> = {},
): Promise<{ steps: StepResult[]; lines: string[] }> {
  const steps: StepResult[] = [];
  const lines: string[] = [];
  await runSetupSteps(
    clientSender(target.client(), 'setup.elasticsearch'),
    { ...baseOptions, ...options },
    {
      step: (s) => steps.push(s),
      line: (l) => lines.push(l),
    },
  );
  return { steps, lines };
}

function valueAfter(lines: string[], label: string): string {
  const line = lines.find((l) => l.includes(label));
  if (line === undefined) throw new Error(`no "${label}" in ${lines.join('\n')}`);
  return line.slice(line.indexOf(label) + label.length).trim();
}

async function tlsFailureOf(client: Client): Promise<unknown> {
  return client.security.authenticate().then(
    () => 'connected',
    (err: unknown) => classifyEsError(err, { credential: 'output.elasticsearch' }),
  );
}

describe(`cluster security against the ${kind} Elasticsearch`, () => {
  let target: EsTarget;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-security-'));

  beforeAll(async () => {
    const t = await esTarget(kind);
    if (t === undefined) throw new Error('no Elasticsearch target');
    target = t;
  }, 240_000);
  afterAll(async () => {
    await target.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function dryRun(): Promise<{ steps: StepResult[]; lines: string[] }> {
    const steps: StepResult[] = [];
    const lines: string[] = [];
    const output = { step: (s: StepResult) => steps.push(s), line: (l: string) => lines.push(l) };
    const cluster = clientSender(target.client(), 'setup.elasticsearch');
    await runSetupSteps(dryRunSender(output, cluster), { ...baseOptions, dryRun: true }, output);
    return { steps, lines };
  }

  const writerRole = async (): Promise<{ status: number | undefined; body: unknown }> => {
    const res = await target
      .client()
      .transport.request({ method: 'GET', path: `/_security/role/${writerRoleName}` }, { ignore: [404], meta: true });
    return { status: res.statusCode ?? undefined, body: res.body };
  };

  it('--dry-run reads the cluster and says what would change, writing nothing', async () => {
    const before = await writerRole();
    const { steps, lines } = await dryRun();
    const role = steps.find((s) => s.object === `role ${writerRoleName}`);
    expect(role?.outcome).toMatch(/would create|would update|unchanged/);
    if (role?.outcome !== 'unchanged') {
      expect(lines.some((l) => l.startsWith(`would send: PUT /_security/role/${writerRoleName}`))).toBe(true);
    }
    expect(await writerRole()).toEqual(before);
  });

  it('sets up from nothing, then changes nothing the second time', async () => {
    const first = await setup(target);
    expect(first.steps.find((s) => s.object === `role ${writerRoleName}`)?.outcome).toMatch(
      /created|updated|unchanged/,
    );
    expect(first.steps.some((s) => s.object.startsWith('index template') || s.object === 'APM index templates')).toBe(
      true,
    );
    const second = await setup(target);
    expect(second.steps.filter((s) => s.outcome === 'created' || s.outcome === 'updated')).toEqual([]);
    const planned = await dryRun();
    expect(planned.steps.filter((s) => s.outcome === 'would create' || s.outcome === 'would update')).toEqual([]);
    expect(planned.lines.filter((l) => l.startsWith('would send'))).toEqual([]);
  });

  it('forwarder precondition: a user lacking create_doc is refused, and passes once setup grants the writer role', async () => {
    const admin = target.client();
    await admin.security.putRole({
      name: 'apm_sidecar_it_partial',
      cluster: ['monitor'],
      indices: [{ names: patterns, privileges: ['auto_configure'] }],
    });
    await admin.security.putUser({
      username: 'apm_sidecar_it_fw',
      password: 'it-password-1',
      roles: ['apm_sidecar_it_partial'],
    });
    const fw = target.client({ username: 'apm_sidecar_it_fw', password: 'it-password-1' });
    expect(await missingPrivileges(fw, writerPrivileges)).toEqual(
      expect.arrayContaining(patterns.map((p) => `create_doc on ${p}`)),
    );
    const { steps } = await setup(target, { createWriterUser: 'apm_sidecar_it_fw' });
    expect(steps.find((s) => s.object === 'writer user apm_sidecar_it_fw')?.outcome).toBe('updated');
    expect(await missingPrivileges(fw, writerPrivileges)).toEqual([]);
  });

  it.each([
    ['monitor', [] as string[], ['auto_configure', 'create_doc']],
    ['auto_configure', ['monitor'], ['create_doc']],
    ['create_doc', ['monitor'], ['auto_configure']],
  ])('check names a missing %s with the remediation', async (missing, cluster, indexPrivileges) => {
    const admin = target.client();
    const name = `apm_sidecar_it_no_${missing}`;
    await admin.security.putRole({ name, cluster, indices: [{ names: patterns, privileges: indexPrivileges }] });
    await admin.security.putUser({ username: name, password: 'it-password-2', roles: [name] });
    const output = target.output({ username: name, password: 'it-password-2' });
    const loaded = loadConfig({ env: {}, overrides: { output: { elasticsearch: output } } });
    const results = await collectChecks(loaded);
    const line = results.find((r) => r.name === 'forwarder privileges');
    expect(line?.status).toBe('fail');
    expect(line?.detail).toContain(missing);
    expect(line?.remediation).toContain(`grant ${missing}`);
    // Less than the writer needs is no reason to warn that it holds more.
    expect(results.filter((r) => r.status === 'warn' && r.name === 'forwarder privileges')).toEqual([]);
  });

  it('check warns when the writer credential holds more than it needs (a superuser)', async () => {
    const loaded = loadConfig({ env: {}, overrides: { output: { elasticsearch: target.output(target.admin) } } });
    const warning = (await collectChecks(loaded)).find((r) => r.name === 'forwarder privileges' && r.status === 'warn');
    expect(warning?.detail).toContain('superuser');
    expect(warning?.remediation).toContain('--create-writer-api-key');
  });

  it("check fails on a proxy config the proxy refuses, by the proxy's own assertions", async () => {
    const pki = testPki();
    const proxyLine = async (ssl: Record<string, string>): Promise<CheckResult | undefined> =>
      (await collectChecks(loadConfig({ env: {}, overrides: { server: { ssl } } }))).find((r) => r.name === 'proxy');
    await expect(proxyLine({ certificate: pki.serverCertFile, key: pki.serverKeyFile })).resolves.toMatchObject({
      status: 'ok',
    });
    const mismatch = await proxyLine({ certificate: pki.serverCertFile, key: pki.clientKeyFile });
    expect(mismatch).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('is not the key of server.ssl.certificate') as unknown,
    });
    const missing = await proxyLine({ certificate: path.join(tmp, 'no-such.crt'), key: pki.serverKeyFile });
    expect(missing).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('server.ssl.certificate: cannot read') as unknown,
    });
    expect(missing?.remediation).toContain('APM_SIDECAR_SSL_CERTIFICATE');
  });

  it('trusts the cluster by CA file or by fingerprint; a wrong CA or pin is a TLS failure that says so', async () => {
    const output = target.output(target.admin);
    const fingerprint = certificateFingerprint(fs.readFileSync(target.caFile, 'utf8'));
    const wrongCaFile = path.join(tmp, 'wrong-ca.crt');
    fs.writeFileSync(wrongCaFile, createCertificateAuthority('not the cluster CA').cert);
    // The runtime view parses the pin, so each variant is built from its config.
    const byPin = createEsClient(
      esConnection({
        ...output,
        ssl: { ...output.ssl, certificate_authorities: [], ca_trusted_fingerprint: fingerprint },
      }),
    );
    const byWrongCa = createEsClient(
      esConnection({ ...output, ssl: { ...output.ssl, certificate_authorities: [wrongCaFile] } }),
    );
    const byWrongPin = createEsClient(
      esConnection({
        ...output,
        ssl: { ...output.ssl, certificate_authorities: [], ca_trusted_fingerprint: 'ab'.repeat(32) },
      }),
    );
    try {
      await expect(tlsFailureOf(target.client())).resolves.toBe('connected');
      // The pin matches the root of the chain the server sends: Elasticsearch sends it, the stand-in does not.
      if (kind === 'real') await expect(tlsFailureOf(byPin)).resolves.toBe('connected');
      else await expect(tlsFailureOf(byPin)).resolves.toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
      const wrongCa = await tlsFailureOf(byWrongCa);
      expect(wrongCa).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
      expect(describeForOperator(wrongCa)).toContain('certificate_authorities');
      const wrongPin = await tlsFailureOf(byWrongPin);
      expect(wrongPin).toMatchObject({ code: 'SIDECAR_ERR_ES_TLS' });
      expect(describeForOperator(wrongPin)).toContain('fingerprint');
    } finally {
      await Promise.all([byPin, byWrongCa, byWrongPin].map(async (c) => c.close()));
    }
  });

  it('verifies agent API keys as the key itself: ok, forbidden, unknown, and revoked once the cache TTL ends', async () => {
    const { lines } = await setup(target, { createAgentApiKey: 'apm-sidecar-it-agent' });
    const agentKey = valueAfter(lines, 'ELASTIC_APM_API_KEY=');
    const admin = target.client();
    const useless = await admin.security.createApiKey({
      name: 'apm-sidecar-it-useless',
      role_descriptors: { none: { cluster: [], indices: [] } },
    });
    const overrides = {
      output: { elasticsearch: target.output({}) },
      server: { auth: { api_key: { enabled: true, cache_ttl: '2s' } } },
    };
    const sink = new LogSink();
    const verifier = createApiKeyVerifier(loadConfig({ env: {}, overrides }).config, sink.logger());
    try {
      await expect(verifier.verify(agentKey, 'event:write')).resolves.toMatchObject({ kind: 'ok' });
      await expect(verifier.verify(agentKey, 'config_agent:read')).resolves.toMatchObject({ kind: 'ok' });
      await expect(verifier.verify(useless.encoded, 'event:write')).resolves.toMatchObject({ kind: 'forbidden' });
      await expect(
        verifier.verify(Buffer.from('nosuchid:nosuchkey').toString('base64'), 'event:write'),
      ).resolves.toMatchObject({ kind: 'unauthorized' });
      const id = Buffer.from(agentKey, 'base64').toString('utf8').split(':')[0] ?? '';
      await admin.security.invalidateApiKey({ ids: [id] });
      // Within the TTL the cached verdict stands, as in APM Server; after it the revocation is seen.
      await expect(verifier.verify(agentKey, 'event:write')).resolves.toMatchObject({ kind: 'ok' });
      const deadline = Date.now() + 30_000;
      let verdict = await verifier.verify(agentKey, 'event:write');
      while (verdict.kind === 'ok' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        verdict = await verifier.verify(agentKey, 'event:write');
      }
      expect(verdict.kind).toBe('unauthorized');
    } finally {
      await verifier.close();
    }
    sink.assertNoUnexpectedErrors();
  });
});
