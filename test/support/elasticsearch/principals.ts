import { errors } from '@elastic/elasticsearch';

import { apmIndexPatterns, readerRole, writerRole } from '../../../elasticsearch/setup/roles';
import {
  apmComponentTemplates,
  apmIndexTemplates,
  apmLifecyclePolicies,
  coreMappingFeatures,
  fullMappingFeatures,
} from '../../../elasticsearch/setup/templates';
import type { EsCredentials, EsTarget } from '../es-target';

/** The credentials suites use; created over REST, identically on the real node and the stand-in. */
export interface TestPrincipals {
  readonly admin: EsCredentials;
  /** Holds the SPEC's writer role (elasticsearch/setup/roles.ts writerRole, as apm_sidecar_test_writer_role). */
  readonly writer: EsCredentials;
  readonly reader: EsCredentials;
  /** Like the writer but without create_doc: bulk items answer 403, the privileges check names create_doc. */
  readonly noCreateDoc: EsCredentials;
  /** API key limited to the writer role. */
  readonly writerApiKey: EsCredentials & { readonly id: string };
  /** API key with the `apm` application privilege `event:write` on resource `-`, as APM agent keys have. */
  readonly agentApiKey: EsCredentials & { readonly id: string };
}

/**
 * Test roles carry the product's role content under their own names: the real node is shared by every file of
 * a jest run, and a suite testing `apm-sidecar setup` must be the only writer of the product's roles.
 */
export const testWriterRoleName = 'apm_sidecar_test_writer_role';
export const testReaderRoleName = 'apm_sidecar_test_reader_role';
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

async function exists(p: Promise<unknown>): Promise<boolean> {
  return p.then(
    () => true,
    (err: unknown) => {
      if (err instanceof errors.ResponseError && err.statusCode === 404) return false;
      throw err;
    },
  );
}

/**
 * apm-sidecar's lifecycle policies (where the cluster has ILM), component and index templates
 * (elasticsearch/setup/templates.ts), with the field types the target supports. Create-only: on the shared
 * real node, what `apm-sidecar setup` (under test elsewhere) installed is never overwritten.
 */
export async function installApmTemplates(target: EsTarget): Promise<void> {
  const admin = target.client();
  const ilm = !target.lacks.has('ilm');
  const options = { features: target.lacks.has('mapper_extras') ? coreMappingFeatures : fullMappingFeatures, ilm };
  for (const p of ilm ? apmLifecyclePolicies() : []) {
    if (!(await exists(admin.ilm.getLifecycle({ name: p.name }))))
      await admin.ilm.putLifecycle({ name: p.name, ...p.body });
  }
  const ignoreExisting = { ignore: [400] };
  for (const c of apmComponentTemplates(options))
    await admin.cluster.putComponentTemplate({ name: c.name, create: true, ...c.body }, ignoreExisting);
  for (const t of apmIndexTemplates(options))
    await admin.indices.putIndexTemplate({ name: t.name, create: true, ...t.body }, ignoreExisting);
}

/**
 * Creates the roles, users and API keys tests need and installs apm-sidecar's templates. Idempotent:
 * PUTs overwrite, API keys are new each call (cheap).
 */
export async function provisionTestPrincipals(target: EsTarget): Promise<TestPrincipals> {
  const admin = target.client();
  await admin.security.putRole({ name: testWriterRoleName, ...writerRole });
  await admin.security.putRole({ name: testReaderRoleName, ...readerRole });
  await admin.security.putRole({ name: noCreateDocRoleName, ...noCreateDocRole });
  await installApmTemplates(target);
  const writer = await putUser(target, 'apm_sidecar_test_writer', 'writer-password', testWriterRoleName);
  const reader = await putUser(target, 'apm_sidecar_test_reader', 'reader-password', testReaderRoleName);
  const noCreateDoc = await putUser(
    target,
    'apm_sidecar_test_no_create_doc',
    'no-create-doc-password',
    noCreateDocRoleName,
  );
  const writerKey = await admin.security.createApiKey({
    name: 'apm-sidecar-test-writer',
    role_descriptors: { writer: writerRole },
  });
  const agentKey = await admin.security.createApiKey({
    name: 'apm-sidecar-test-agent',
    role_descriptors: agentRoleDescriptors,
  });
  return {
    admin: target.admin,
    writer,
    reader,
    noCreateDoc,
    writerApiKey: { apiKey: writerKey.encoded, id: writerKey.id },
    agentApiKey: { apiKey: agentKey.encoded, id: agentKey.id },
  };
}
