import { digestOf, type EsRequest, pick, type RequestSender, stringAt } from './requests';
import { managedRoles, type RoleDefinition } from './roles';
import {
  apmComponentTemplates,
  apmDataStreamKinds,
  apmIndexTemplates,
  apmLifecyclePolicies,
  type TemplateOptions,
} from './templates';

type StepOutcome =
  'created' | 'updated' | 'unchanged' | 'verified' | 'skipped' | 'planned' | 'would create' | 'would update';

/** One line of setup's report: what happened to which object. */
export interface StepResult {
  readonly object: string;
  readonly outcome: StepOutcome;
  readonly detail?: string;
}

/** A named object setup keeps in the state it defines, recognised by the digest of its definition. */
interface ManagedObject {
  readonly object: string;
  readonly getPath: string;
  readonly put: EsRequest;
  readonly digest: string;
  /** Where the stored digest lives in the GET answer. */
  readonly storedDigest: (body: unknown) => string | undefined;
}

/** Creates, updates or leaves alone one object; with dryRun it reads the same and only says what it would send. */
export async function ensureObject(
  sender: RequestSender,
  managed: ManagedObject,
  dryRun: boolean,
): Promise<StepResult> {
  const current = await sender.read({ method: 'GET', path: managed.getPath });
  if (current.status !== 404 && managed.storedDigest(current.body) === managed.digest) {
    return { object: managed.object, outcome: 'unchanged' };
  }
  await sender.write(managed.put);
  const absent = current.status === 404;
  if (dryRun) return { object: managed.object, outcome: absent ? 'would create' : 'would update' };
  return { object: managed.object, outcome: absent ? 'created' : 'updated' };
}

function withDigest<T extends Record<string, unknown>>(body: T, metaKey: string): { body: T; digest: string } {
  const digest = digestOf(body);
  const meta = pick(body, metaKey);
  const metaObject = typeof meta === 'object' && meta !== null ? meta : {};
  return { body: { ...body, [metaKey]: { ...metaObject, digest } }, digest };
}

export function roleObjects(roles: RoleDefinition[] = managedRoles()): ManagedObject[] {
  return roles.map((role) => {
    const { body, digest } = withDigest({ ...role.body }, 'metadata');
    const path = `/_security/role/${encodeURIComponent(role.name)}`;
    return {
      object: `role ${role.name}`,
      getPath: path,
      put: { method: 'PUT', path, body },
      digest,
      storedDigest: (answer) => stringAt(answer, role.name, 'metadata', 'digest'),
    };
  });
}

function firstTemplate(answer: unknown, listKey: string, itemKey: string): unknown {
  const list = pick(answer, listKey);
  return Array.isArray(list) && list.length > 0 ? pick(list[0], itemKey) : undefined;
}

/** A component or index template: both are stored under `_meta` and answered as a list of one. */
function templateObject(kind: 'component' | 'index', template: { name: string; body: object }): ManagedObject {
  const { body, digest } = withDigest({ ...template.body }, '_meta');
  const path = `/_${kind}_template/${template.name}`;
  return {
    object: `${kind} template ${template.name}`,
    getPath: path,
    put: { method: 'PUT', path, body },
    digest,
    storedDigest: (answer) =>
      stringAt(firstTemplate(answer, `${kind}_templates`, `${kind}_template`), '_meta', 'digest'),
  };
}

export function templateObjects(options: TemplateOptions): ManagedObject[] {
  return [
    ...apmComponentTemplates(options).map((t) => templateObject('component', t)),
    ...apmIndexTemplates(options).map((t) => templateObject('index', t)),
  ];
}

export function lifecycleObjects(): ManagedObject[] {
  return apmLifecyclePolicies().map((p): ManagedObject => {
    const { body: policy, digest } = withDigest({ ...p.body.policy }, '_meta');
    const path = `/_ilm/policy/${p.name}`;
    return {
      object: `lifecycle policy ${p.name}`,
      getPath: path,
      put: { method: 'PUT', path, body: { policy } },
      digest,
      storedDigest: (answer) => stringAt(answer, p.name, 'policy', '_meta', 'digest'),
    };
  });
}

/** An index template found on the cluster: its name, patterns, priority and who manages it. */
interface FoundTemplate {
  readonly name: string;
  readonly patterns: string[];
  readonly priority: number;
  readonly ours: boolean;
}

export function parseIndexTemplates(answer: unknown): FoundTemplate[] {
  const list = pick(answer, 'index_templates');
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown) => {
    const name = stringAt(item, 'name');
    const patterns = pick(item, 'index_template', 'index_patterns');
    const priority = pick(item, 'index_template', 'priority');
    if (name === undefined || !Array.isArray(patterns)) return [];
    return [
      {
        name,
        patterns: patterns.filter((p: unknown): p is string => typeof p === 'string'),
        priority: typeof priority === 'number' ? priority : 0,
        ours: stringAt(item, 'index_template', '_meta', 'managed_by') === 'apm-sidecar',
      },
    ];
  });
}

function globMatches(pattern: string, name: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(name);
}

/**
 * Which of the APM data streams the cluster already provides templates for (apm-data plugin >= 8.15, or the
 * Fleet APM integration): the highest-priority template matching each stream, when it is not ours.
 */
export function providedByCluster(templates: FoundTemplate[]): Map<string, string> {
  const provided = new Map<string, string>();
  for (const kind of apmDataStreamKinds) {
    const winner = templates
      .filter((t) => t.patterns.some((p) => globMatches(p, kind.example)))
      .sort((a, b) => b.priority - a.priority)[0];
    if (winner !== undefined && !winner.ours) provided.set(kind.example, winner.name);
  }
  return provided;
}
