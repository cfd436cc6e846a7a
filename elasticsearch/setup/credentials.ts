import { randomBytes } from 'node:crypto';

import { SidecarError } from '../../core/errors';
import { pick, type RequestSender, stringAt } from './requests';
import {
  agentApiKeyRoleDescriptors,
  agentConfigReaderRole,
  agentConfigReaderRoleName,
  writerApiKeyRoleDescriptorsFor,
  writerRoleName,
} from './roles';
import type { StepResult } from './steps';

/** A credential setup created, printed once: it is never stored or logged by apm-sidecar. */
export interface IssuedCredential {
  readonly result: StepResult;
  /** Lines to show the operator, secrets included. */
  readonly lines: string[];
}

function malformed(what: string): SidecarError {
  return new SidecarError('SIDECAR_ERR_ES_REQUEST_REJECTED', `unexpected answer to ${what}`, {
    remediation: 'check that the cluster runs Elasticsearch 8.x with security enabled',
  });
}

function apiKeyLines(answer: unknown, what: string): { id: string; encoded: string } {
  const id = stringAt(answer, 'id');
  const key = stringAt(answer, 'api_key');
  if (id === undefined || key === undefined) throw malformed(what);
  return { id, encoded: stringAt(answer, 'encoded') ?? Buffer.from(`${id}:${key}`).toString('base64') };
}

/** The forwarder's API key: exactly the writer role (plus agent-config read when the proxy needs it). */
export async function createWriterApiKey(
  sender: RequestSender,
  withAgentConfig: boolean,
  dryRun: boolean,
  sourceMapping = false,
): Promise<IssuedCredential> {
  const name = `apm-sidecar-writer-${new Date().toISOString().slice(0, 10)}`;
  const writer = writerApiKeyRoleDescriptorsFor(sourceMapping);
  const descriptors = withAgentConfig ? { ...writer, [agentConfigReaderRoleName]: agentConfigReaderRole } : writer;
  const answer = await sender.write({
    method: 'POST',
    path: '/_security/api_key',
    body: { name, role_descriptors: descriptors, metadata: { managed_by: 'apm-sidecar', purpose: 'forwarder' } },
  });
  if (dryRun) return { result: { object: `writer API key ${name}`, outcome: 'planned' }, lines: [] };
  const { id, encoded } = apiKeyLines(answer.body, 'POST /_security/api_key');
  return {
    result: { object: `writer API key ${name}`, outcome: 'created', detail: `id ${id}` },
    lines: [
      `writer API key (shown once; limited to the ${writerRoleName} role):`,
      `  output.elasticsearch.api_key: ${encoded}`,
      `  or APM_SIDECAR_ES_API_KEY=${encoded}`,
    ],
  };
}

/** A user holding the writer role. An existing user keeps its password and gains the role if it lacks it. */
export async function ensureWriterUser(
  sender: RequestSender,
  username: string,
  withAgentConfig: boolean,
  dryRun: boolean,
): Promise<IssuedCredential> {
  const path = `/_security/user/${encodeURIComponent(username)}`;
  const wanted = withAgentConfig ? [writerRoleName, agentConfigReaderRoleName] : [writerRoleName];
  const object = `writer user ${username}`;
  if (dryRun) {
    await sender.write({
      method: 'PUT',
      path,
      body: { password: '<generated>', roles: wanted, metadata: { managed_by: 'apm-sidecar' } },
    });
    return { result: { object, outcome: 'planned' }, lines: [] };
  }
  const current = await sender.read({ method: 'GET', path });
  if (current.status !== 404) {
    const roles = pick(current.body, username, 'roles');
    const held = Array.isArray(roles) ? roles.filter((r: unknown): r is string => typeof r === 'string') : [];
    const missing = wanted.filter((r) => !held.includes(r));
    if (missing.length === 0)
      return {
        result: { object, outcome: 'unchanged', detail: 'already has the writer role; password not changed' },
        lines: [],
      };
    // PUT without a password keeps the user's password.
    await sender.write({ method: 'PUT', path, body: { roles: [...held, ...missing] } });
    return {
      result: { object, outcome: 'updated', detail: `granted ${missing.join(', ')}; password not changed` },
      lines: [],
    };
  }
  const password = randomBytes(24).toString('base64url');
  await sender.write({
    method: 'PUT',
    path,
    body: { password, roles: wanted, metadata: { managed_by: 'apm-sidecar' } },
  });
  return {
    result: { object, outcome: 'created' },
    lines: [
      `writer user ${username} (password shown once):`,
      `  output.elasticsearch.username: ${username}`,
      `  output.elasticsearch.password: ${password}`,
    ],
  };
}

/** An API key for agents: application apm, event:write and config_agent:read, nothing else. */
export async function createAgentApiKey(
  sender: RequestSender,
  name: string,
  dryRun: boolean,
): Promise<IssuedCredential> {
  const answer = await sender.write({
    method: 'POST',
    path: '/_security/api_key',
    body: {
      name,
      role_descriptors: agentApiKeyRoleDescriptors,
      metadata: { managed_by: 'apm-sidecar', purpose: 'apm agent' },
    },
  });
  if (dryRun) return { result: { object: `agent API key ${name}`, outcome: 'planned' }, lines: [] };
  const { id, encoded } = apiKeyLines(answer.body, 'POST /_security/api_key');
  return {
    result: { object: `agent API key ${name}`, outcome: 'created', detail: `id ${id}` },
    lines: [
      `agent API key ${name} (shown once; the proxy needs server.auth.api_key.enabled: true):`,
      `  agent setting apiKey / ELASTIC_APM_API_KEY=${encoded}`,
    ],
  };
}
