import type { IntakeLineError } from '../intake/process';
import type { LineInspector } from '../intake/scan';
import type { LineKind } from '../intake/validate';

/**
 * server.auth.anonymous.allow_agent / allow_service: what an anonymous request may say it is. The metadata
 * line names the agent and service (refusing it refuses the request); an event that overrides the service
 * (context.service.name, v3 c.se.n) is checked too and refused alone.
 */
export interface AnonymousSettings {
  readonly allowAgent: readonly string[];
  readonly allowService: readonly string[];
}

type Path = readonly string[];

function at(value: unknown, path: Path): unknown {
  let node = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    const next: unknown = Reflect.get(node, key);
    node = next;
  }
  return node;
}

const paths: Readonly<Partial<Record<LineKind, { agent?: Path; service: Path }>>> = {
  metadata: { agent: ['metadata', 'service', 'agent', 'name'], service: ['metadata', 'service', 'name'] },
  m: { agent: ['m', 'se', 'a', 'n'], service: ['m', 'se', 'n'] },
  transaction: {
    agent: ['transaction', 'context', 'service', 'agent', 'name'],
    service: ['transaction', 'context', 'service', 'name'],
  },
  error: { agent: ['error', 'context', 'service', 'agent', 'name'], service: ['error', 'context', 'service', 'name'] },
  span: { agent: ['span', 'context', 'service', 'agent', 'name'], service: ['span', 'context', 'service', 'name'] },
  x: { agent: ['x', 'c', 'se', 'a', 'n'], service: ['x', 'c', 'se', 'n'] },
  e: { agent: ['e', 'c', 'se', 'a', 'n'], service: ['e', 'c', 'se', 'n'] },
};

function refused(what: 'agent' | 'service', name: string): IntakeLineError {
  return {
    code: 'SIDECAR_ERR_ANONYMOUS_NOT_ALLOWED',
    message: `forbidden request: anonymous access not permitted for ${what} "${name}"`,
  };
}

export class AnonymousPolicy {
  private readonly agents: ReadonlySet<string>;
  private readonly services: ReadonlySet<string>;

  constructor(settings: AnonymousSettings) {
    this.agents = new Set(settings.allowAgent);
    this.services = new Set(settings.allowService);
  }

  /** The line inspector for an anonymous request's stream. */
  readonly inspect: LineInspector = (kind, value) => {
    const where = paths[kind];
    if (where === undefined) return null;
    const agent = where.agent === undefined ? undefined : at(value, where.agent);
    if (typeof agent === 'string' && agent !== '' && this.agents.size > 0 && !this.agents.has(agent))
      return refused('agent', agent);
    const service = at(value, where.service);
    if (typeof service === 'string' && service !== '' && this.services.size > 0 && !this.services.has(service))
      return refused('service', service);
    return null;
  };
}
