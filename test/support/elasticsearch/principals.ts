import { apmIndexPatterns, readerRole, readerRoleName, writerRole, writerRoleName } from '../../../elasticsearch/setup/roles';
import { apmComponentTemplates, apmIndexTemplates, apmLifecyclePolicies, coreMappingFeatures, fullMappingFeatures } from '../../../elasticsearch/setup/templates';
import type { EsCredentials, EsTarget } from '../es-target';

/** The credentials suites use; created over REST, identically on the real node and the stand-in. */
export interface TestPrincipals {
  readonly admin: EsCredentials;
  /** Holds the SPEC's writer role (elasticsearch/setup/roles.ts). */
  readonly writer: EsCredentials;
  readonly reader: EsCredentials;
  /** Like the writer but without create_doc: bulk items answer 403, the privileges check names create_doc. */
  readonly noCreateDoc: EsCredentials;
  /** API key limited to the writer role. */
  readonly writerApiKey: EsCredentials & { readonly id: string };
  /** API key with the `apm` application privilege `event:write` on resource `-`, as APM agent keys have. */
  readonly agentApiKey: EsCredentials & { readonly id: string };
}

export const noCreateDocRoleName = 'apm_sidecar_test_no_create_doc';

export const noCreateDocRole = {
  cluster: ['monitor'],
  indices: [{ names: [...apmIndexPatterns], privileges: ['auto_configure', 'read'] }],
};

export const agentRoleDescriptors = {
  apm_agent: { applications: [{ application: 'apm', privileges: ['event:write'], resources: ['-'] }] },
};

async function putUser(target: EsTarget, username: string, password: string, role: string): Promise<EsCredentials> {
  await target.client().security.putUser({ username, password, roles: [role] });
  return { username, password };
}

/**
 * apm-sidecar's lifecycle policies (where the cluster has ILM), component and index templates
 * (elasticsearch/setup/templates.ts), with the field types the target supports.
 */
export async function installApmTemplates(target: EsTarget): Promise<void> {
  const admin = target.client();
  const ilm = !target.lacks.has('ilm');
  const options = { features: target.lacks.has('mapper_extras') ? coreMappingFeatures : fullMappingFeatures, ilm };
  if (ilm) for (const p of apmLifecyclePolicies()) await admin.ilm.putLifecycle({ name: p.name, ...p.body });
  for (const c of apmComponentTemplates(options)) await admin.cluster.putComponentTemplate({ name: c.name, ...c.body });
  for (const t of apmIndexTemplates(options)) await admin.indices.putIndexTemplate({ name: t.name, ...t.body });
}

/**
 * Creates the roles, users and API keys tests need and installs apm-sidecar's templates. Idempotent:
 * PUTs overwrite, API keys are new each call (cheap).
 */
export async function provisionTestPrincipals(target: EsTarget): Promise<TestPrincipals> {
  const admin = target.client();
  await admin.security.putRole({ name: writerRoleName, ...writerRole });
  await admin.security.putRole({ name: readerRoleName, ...readerRole });
  await admin.security.putRole({ name: noCreateDocRoleName, ...noCreateDocRole });
  await installApmTemplates(target);
  const writer = await putUser(target, 'apm_sidecar_test_writer', 'writer-password', writerRoleName);
  const reader = await putUser(target, 'apm_sidecar_test_reader', 'reader-password', readerRoleName);
  const noCreateDoc = await putUser(target, 'apm_sidecar_test_no_create_doc', 'no-create-doc-password', noCreateDocRoleName);
  const writerKey = await admin.security.createApiKey({ name: 'apm-sidecar-test-writer', role_descriptors: { writer: writerRole } });
  const agentKey = await admin.security.createApiKey({ name: 'apm-sidecar-test-agent', role_descriptors: agentRoleDescriptors });
  return {
    admin: target.admin,
    writer,
    reader,
    noCreateDoc,
    writerApiKey: { apiKey: writerKey.encoded, id: writerKey.id },
    agentApiKey: { apiKey: agentKey.encoded, id: agentKey.id },
  };
}
