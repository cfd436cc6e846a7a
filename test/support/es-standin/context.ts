import { forbidden, unauthorizedReason } from './es-errors';
import { type JsonObject, parseJsonObject } from './json';
import { allowsCluster, allowsIndex } from './privileges';
import type { Principal, SecurityRealm } from './security';
import type { DocumentStore } from './store';

/** What a route handler gets: the parsed request, who sent it, and the stand-in's state. */
export interface RequestContext {
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: Buffer;
  readonly principal: Principal;
  readonly store: DocumentStore;
  readonly realm: SecurityRealm;
  /** Called after a state change so process mode can persist it. */
  readonly changed: () => void;
}

export interface RouteResult {
  readonly status: number;
  /** undefined: no body (HEAD-style answers). */
  readonly body: unknown;
}

export type RouteHandler = (ctx: RequestContext) => RouteResult;

export interface Route {
  readonly methods: readonly string[];
  readonly pattern: RegExp;
  readonly handler: RouteHandler;
}

/** `/_security/role/:name` -> a RegExp with named groups. */
export function route(methods: string, path: string, handler: RouteHandler): Route {
  const source = path.replace(/\/:(\w+)\?/g, '(?:/(?<$1>[^/]+))?').replace(/:(\w+)/g, '(?<$1>[^/]+)');
  return { methods: methods.split('|'), pattern: new RegExp(`^${source}$`), handler };
}

export function ok(body: unknown, status = 200): RouteResult {
  return { status, body };
}

export function jsonBody(ctx: RequestContext): JsonObject {
  const text = ctx.body.toString('utf8').trim();
  return text === '' ? {} : parseJsonObject(text);
}

/** `user [name]` or `API key id [id] of user [name]`, as Elasticsearch names the subject in a 403. */
export function subject(principal: Principal): string {
  return principal.apiKey === undefined
    ? `user [${principal.username}]`
    : `API key id [${principal.apiKey.id}] of user [${principal.username}]`;
}

export function requireCluster(ctx: RequestContext, privileges: readonly string[], action: string): void {
  if (privileges.some((p) => allowsCluster(ctx.principal.layers, p))) return;
  throw forbidden(
    unauthorizedReason(action, subject(ctx.principal), ctx.principal.roles, undefined, privileges.join(',')),
  );
}

export function requireIndex(ctx: RequestContext, index: string, privileges: readonly string[], action: string): void {
  if (privileges.some((p) => allowsIndex(ctx.principal.layers, index, p))) return;
  throw forbidden(unauthorizedReason(action, subject(ctx.principal), ctx.principal.roles, index, privileges.join(',')));
}
