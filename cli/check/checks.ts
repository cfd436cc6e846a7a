import type { Client } from '@elastic/elasticsearch';
import pino, { type Logger } from 'pino';

import { type RedisTarget, requireRedisTarget } from '../../config/redis-target';
import type { SidecarConfig } from '../../config/schema';
import { describeForOperator, SidecarError } from '../../core/errors';
import { classifyEsError } from '../../elasticsearch/errors';
import {
  agentConfigPrivileges,
  describeMissing,
  findMissingPrivileges,
  privilegeRemediation,
  type RequiredPrivileges,
  sourceMappingOn,
  writerPrivilegesFor,
} from '../../elasticsearch/privileges';
import { stringAt } from '../../elasticsearch/setup/requests';
import { agentConfigReaderRoleName, writerRoleName } from '../../elasticsearch/setup/roles';
import { assertProxyStartable } from '../../proxy/preflight';
import { queueProducerConnection } from '../../queue/connections';
import { verifyMasters } from '../../queue/redis-checks';

/** One line of `apm-sidecar check`. */
export interface CheckResult {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail' | 'skip';
  readonly detail: string;
  readonly remediation?: string;
}

export function failedCheck(name: string, err: unknown): CheckResult {
  const remediation = err instanceof SidecarError ? err.remediation : undefined;
  return {
    name,
    status: 'fail',
    detail: describeForOperator(err).split('. To remediate:')[0] ?? String(err),
    ...(remediation === undefined ? {} : { remediation }),
  };
}

/** The messages a process logs at warn while it checks its config (a check turns each into a warn line). */
function warningCollector(): { readonly logger: Logger; readonly messages: string[] } {
  const messages: string[] = [];
  const logger = pino(
    { level: 'warn', base: null },
    {
      write(line: string) {
        const entry: unknown = JSON.parse(line);
        if (entry !== null && typeof entry === 'object' && 'msg' in entry) messages.push(String(entry.msg));
      },
    },
  );
  return { logger, messages };
}

/** Settings that make a process refuse to start, or that weaken security, found without any network. */
export function configChecks(config: SidecarConfig): CheckResult[] {
  const results: CheckResult[] = [{ name: 'config', status: 'ok', detail: 'configuration is valid' }];
  const auth = config.server.auth;
  const warnings = warningCollector();
  try {
    // The very assertions the proxy makes before it opens anything, warnings included.
    const tls = assertProxyStartable(config, warnings.logger).enabled;
    results.push({
      name: 'proxy',
      status: 'ok',
      detail: tls ? 'TLS certificate and key load and match' : 'starts without TLS',
    });
  } catch (err) {
    const failed = failedCheck('proxy', err);
    results.push({ ...failed, detail: `the proxy will refuse to start: ${failed.detail}` });
  }
  for (const message of warnings.messages) results.push({ name: 'proxy', status: 'warn', detail: message });
  if (auth.secret_tokens.length === 0 && !auth.api_key.enabled) {
    results.push({
      name: 'proxy auth',
      status: 'warn',
      detail: 'no secret token and no API keys: any client can send data',
      remediation: 'set server.auth.secret_tokens or server.auth.api_key.enabled',
    });
  }
  const es = config.output.elasticsearch;
  if (es.ssl.verification_mode === 'none') {
    results.push({
      name: 'elasticsearch tls',
      status: 'warn',
      detail: 'ssl.verification_mode is none: the cluster is not authenticated',
      remediation:
        'set output.elasticsearch.ssl.certificate_authorities or ca_trusted_fingerprint and verification_mode: full',
    });
  }
  if (es.hosts.some((h) => h.startsWith('http://'))) {
    results.push({
      name: 'elasticsearch tls',
      status: 'warn',
      detail: 'a host uses plain http: the writer credential crosses the network in clear text',
      remediation: 'use https hosts',
    });
  }
  return results;
}

export async function redisCheck(config: SidecarConfig): Promise<CheckResult> {
  let target: RedisTarget;
  try {
    target = requireRedisTarget(config, 'proxy and the forwarder');
  } catch (err) {
    return failedCheck('redis', err);
  }
  const redis = queueProducerConnection(target, 5000);
  // Errors surface through connect(); without a listener ioredis would also print them.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    // Every master of a cluster; the one that fails is named.
    const masters = await verifyMasters(redis, config.queue.durability, config.queue.replicas);
    return {
      name: 'redis',
      status: 'ok',
      detail: `reachable; noeviction; durability ${config.queue.durability} possible${target.kind === 'cluster' ? ` on all ${masters.length} masters` : ''}`,
    };
  } catch (err) {
    return failedCheck('redis', err);
  } finally {
    redis.disconnect();
  }
}

/** Reaches the cluster and authenticates: names the user the credential is. */
export async function elasticsearchReachCheck(client: Client): Promise<CheckResult> {
  try {
    const body: unknown = await client.security.authenticate();
    const user = stringAt(body, 'username') ?? '?';
    const apiKeyName = stringAt(body, 'api_key', 'name');
    return {
      name: 'elasticsearch',
      status: 'ok',
      detail: `reachable over TLS; authenticated as ${apiKeyName === undefined ? `user ${user}` : `API key ${apiKeyName} of ${user}`}`,
    };
  } catch (err) {
    return failedCheck(
      'elasticsearch',
      classifyEsError(err, { credential: 'output.elasticsearch', action: 'authenticating' }),
    );
  }
}

async function privilegeCheck(
  client: Client,
  name: string,
  required: RequiredPrivileges,
  roleName: string,
): Promise<CheckResult> {
  try {
    const missing = await findMissingPrivileges(client, required);
    if (missing.length === 0) return { name, status: 'ok', detail: 'every required privilege is held' };
    return {
      name,
      status: 'fail',
      detail: `missing ${missing.map(describeMissing).join(', ')}`,
      remediation: privilegeRemediation(missing, roleName),
    };
  } catch (err) {
    return failedCheck(
      name,
      classifyEsError(err, { credential: 'output.elasticsearch', action: 'checking privileges' }),
    );
  }
}

/** Privileges no writer needs: a credential holding one can do far more harm than write APM data if it leaks. */
const beyondWriter: RequiredPrivileges = { cluster: ['all', 'manage', 'manage_security', 'manage_api_key'], index: [] };

/** Warns when the writer credential holds more than it needs (a superuser, an admin role). */
async function excessPrivilegeCheck(client: Client): Promise<CheckResult | undefined> {
  try {
    const missing = new Set((await findMissingPrivileges(client, beyondWriter)).map((m) => m.privilege));
    const held = beyondWriter.cluster.filter((p) => !missing.has(p));
    if (held.length === 0) return undefined;
    return {
      name: 'forwarder privileges',
      status: 'warn',
      detail: `the output.elasticsearch credential holds more than writing needs: cluster ${held.join(', ')}${held.includes('all') ? ' (a superuser)' : ''}`,
      remediation: `use a credential with only the ${writerRoleName} role: apm-sidecar setup --create-writer-api-key (or --create-writer-user <name>)`,
    };
  } catch {
    // The writer check above already reported why privileges cannot be read.
    return undefined;
  }
}

/** Privileges of each configured process: forwarder writes; proxy reads agent config from the cluster. */
export async function privilegeChecks(client: Client, config: SidecarConfig): Promise<CheckResult[]> {
  const results = [
    await privilegeCheck(client, 'forwarder privileges', writerPrivilegesFor(sourceMappingOn(config)), writerRoleName),
  ];
  const excess = await excessPrivilegeCheck(client);
  if (excess !== undefined) results.push(excess);
  if (config.agent_config.source === 'elasticsearch') {
    results.push(
      await privilegeCheck(client, 'proxy agent-config privileges', agentConfigPrivileges, agentConfigReaderRoleName),
    );
  }
  if (config.server.auth.api_key.enabled) {
    results.push({
      name: 'proxy api keys',
      status: 'ok',
      detail: "keys are verified as the agent's own key: the proxy needs only to reach the cluster",
    });
  }
  return results;
}
