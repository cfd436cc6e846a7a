import { SidecarError } from '../../core/errors';
import { describeMissing, parseHasPrivileges } from '../privileges';
import { createAgentApiKey, createWriterApiKey, ensureWriterUser, type IssuedCredential } from './credentials';
import { coreMappingFeatures, fullMappingFeatures, type MappingFeatures } from './mappings';
import { type EsAnswer, type EsRequest, formatRequest, pick, type RequestSender } from './requests';
import { managedRoles } from './roles';
import {
  ensureObject,
  lifecycleObjects,
  parseIndexTemplates,
  providedByCluster,
  roleObjects,
  type StepResult,
  templateObjects,
} from './steps';

export interface SetupOptions {
  readonly dryRun: boolean;
  readonly createWriterApiKey: boolean;
  readonly createWriterUser?: string | undefined;
  readonly createAgentApiKey?: string | undefined;
  /** The proxy reads central agent configuration from Elasticsearch: writer credentials also get that read. */
  readonly agentConfigFromElasticsearch: boolean;
  /** RUM source mapping on: the writer role (and a writer API key) also read .apm-source-map. */
  readonly sourceMapping?: boolean;
  /** Dry run without a cluster (no output.elasticsearch.hosts): plan for an empty cluster with ILM. */
  readonly planForEmptyCluster?: boolean;
}

export interface SetupOutput {
  /** A progress line per object as it is done. */
  step(result: StepResult): void;
  /** Free text: dry-run requests, credentials created. */
  line(text: string): void;
}

/** What the cluster can do, from the modules every node has. */
export interface ClusterCapabilities {
  readonly ilm: boolean;
  readonly features: MappingFeatures;
}

/**
 * Writes nothing: prints each write request. Reads go to the cluster when there is one, so the plan says what
 * would change there; without one every object reads as absent.
 */
export function dryRunSender(output: SetupOutput, cluster?: RequestSender): RequestSender {
  return {
    read: async (request) => (cluster === undefined ? { status: 404, body: {} } : cluster.read(request)),
    write: async (request: EsRequest): Promise<EsAnswer> => {
      output.line(`would send: ${formatRequest(request)}`);
      return Promise.resolve({ status: 200, body: {} });
    },
  };
}

export function parseCapabilities(answer: unknown): ClusterCapabilities {
  const nodes = pick(answer, 'nodes');
  const perNode = typeof nodes === 'object' && nodes !== null ? Object.values(nodes) : [];
  const moduleSets = perNode.map((node: unknown) => {
    const modules = pick(node, 'modules');
    const names = Array.isArray(modules) ? modules.map((m: unknown) => pick(m, 'name')) : [];
    return new Set(names.filter((n): n is string => typeof n === 'string'));
  });
  const everywhere = (module: string): boolean => moduleSets.length > 0 && moduleSets.every((s) => s.has(module));
  return {
    ilm: everywhere('x-pack-ilm'),
    features: {
      mapperExtras: everywhere('mapper-extras'),
      constantKeyword: everywhere('constant-keyword'),
      histogram: everywhere('x-pack-analytics'),
      aggregateMetric: everywhere('x-pack-aggregate-metric'),
    },
  };
}

/** The node modules decide ILM and field types; a cluster that will not say is treated as minimal. */
async function detectCapabilities(sender: RequestSender, output: SetupOutput): Promise<ClusterCapabilities> {
  try {
    return parseCapabilities(
      (await sender.read({ method: 'GET', path: '/_nodes?filter_path=nodes.*.modules.name' })).body,
    );
  } catch (err) {
    if (!(err instanceof SidecarError) || err.code !== 'SIDECAR_ERR_ES_REQUEST_REJECTED') throw err;
    output.line(`note: cannot list the cluster's modules (${err.message}); assuming no ILM and core field types only`);
    return { ilm: false, features: coreMappingFeatures };
  }
}

/**
 * Cluster privileges the setup credential needs (manage_ilm too when the cluster has ILM). manage_security
 * covers roles, users and API keys; monitor reads the node modules.
 */
const setupPrivileges = ['monitor', 'manage_security', 'manage_index_templates'];

async function assertAdminPrivileges(sender: RequestSender, cluster: string[], extra: string[]): Promise<void> {
  // A read, though a POST: a dry run sends it too.
  const answer = await sender.read({
    method: 'POST',
    path: '/_security/user/_has_privileges',
    body: { cluster: [...cluster, ...extra] },
  });
  const missing = parseHasPrivileges(answer.body);
  if (missing.length === 0) return;
  const names = missing.map(describeMissing).join(', ');
  throw new SidecarError('SIDECAR_ERR_ES_PRIVILEGES', `the setup credential lacks ${names}`, {
    remediation: `run setup as a user with the superuser role (e.g. elastic), or grant the cluster privileges ${missing.map((m) => m.privilege).join(', ')} to the setup.elasticsearch credential`,
  });
}

async function setUpTemplates(
  sender: RequestSender,
  capabilities: ClusterCapabilities,
  options: SetupOptions,
  output: SetupOutput,
): Promise<void> {
  if (options.planForEmptyCluster !== true) {
    const found = await sender.read({ method: 'GET', path: '/_index_template/*apm*' });
    const provided = providedByCluster(parseIndexTemplates(found.body));
    if (provided.size === 5) {
      const names = [...new Set(provided.values())].join(', ');
      output.step({
        object: 'APM index templates',
        outcome: 'verified',
        detail: `provided by the cluster (${names}); none installed`,
      });
      output.step({
        object: 'lifecycle policies',
        outcome: 'verified',
        detail: "managed by the cluster's APM templates",
      });
      return;
    }
  }
  for (const object of templateObjects({ features: capabilities.features, ilm: capabilities.ilm })) {
    output.step(await ensureObject(sender, object, options.dryRun));
  }
  if (!capabilities.ilm) {
    output.step({
      object: 'lifecycle policies',
      outcome: 'skipped',
      detail: 'ILM not available on this cluster (no x-pack-ilm module); data streams keep their data until deleted',
    });
    return;
  }
  for (const object of lifecycleObjects()) output.step(await ensureObject(sender, object, options.dryRun));
}

function report(issued: IssuedCredential, output: SetupOutput): void {
  output.step(issued.result);
  for (const text of issued.lines) output.line(text);
}

/**
 * apm-sidecar setup: checks the admin credential's privileges, then creates or updates (idempotently) the
 * roles, the index templates and lifecycle policies (unless the cluster ships APM's own), and on request the
 * writer's and agents' credentials. Each object is reported as created / updated / unchanged.
 */
export async function runSetupSteps(sender: RequestSender, options: SetupOptions, output: SetupOutput): Promise<void> {
  let capabilities: ClusterCapabilities = { ilm: true, features: fullMappingFeatures };
  if (options.planForEmptyCluster !== true) {
    await assertAdminPrivileges(sender, setupPrivileges, []);
    capabilities = await detectCapabilities(sender, output);
    if (capabilities.ilm) await assertAdminPrivileges(sender, ['manage_ilm'], []);
    if (!capabilities.features.mapperExtras || !capabilities.features.constantKeyword) {
      output.line(
        'note: this cluster lacks mapper-extras/constant-keyword; templates use keyword, text and double in their place',
      );
    }
    if (!capabilities.features.histogram || !capabilities.features.aggregateMetric) {
      output.line(
        'note: this cluster lacks x-pack-analytics/x-pack-aggregate-metric; histogram and summary metrics are kept in _source, not indexed as histogram/aggregate_metric_double',
      );
    }
  }
  for (const object of roleObjects(managedRoles({ sourceMapping: options.sourceMapping === true })))
    output.step(await ensureObject(sender, object, options.dryRun));
  await setUpTemplates(sender, capabilities, options, output);
  if (options.createWriterUser !== undefined) {
    report(
      await ensureWriterUser(sender, options.createWriterUser, options.agentConfigFromElasticsearch, options.dryRun),
      output,
    );
  }
  if (options.createWriterApiKey)
    report(
      await createWriterApiKey(
        sender,
        options.agentConfigFromElasticsearch,
        options.dryRun,
        options.sourceMapping === true,
      ),
      output,
    );
  if (options.createAgentApiKey !== undefined)
    report(await createAgentApiKey(sender, options.createAgentApiKey, options.dryRun), output);
}
