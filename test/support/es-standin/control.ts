import type http from 'node:http';

import type { FaultPlan } from './faults';
import { isObject, parseJsonObject } from './json';

/** The part of EsStandin the HTTP control API drives (process mode). */
export interface ControlledStandin {
  setFaults(plan: FaultPlan): void;
  resetCounters(): void;
  readonly counters: unknown;
  documents(expression?: string): unknown[];
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-elastic-product': 'Elasticsearch',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

function parsePlan(body: Buffer): FaultPlan {
  const raw = parseJsonObject(body.toString('utf8') || '{}', 'fault plan');
  const plan: FaultPlan = {};
  if (typeof raw['bulkItemRejectShare'] === 'number') plan.bulkItemRejectShare = raw['bulkItemRejectShare'];
  const fault = (key: string): { path?: string; times?: number } | undefined => {
    const f = raw[key];
    if (!isObject(f)) return undefined;
    return {
      ...(typeof f['path'] === 'string' ? { path: f['path'] } : {}),
      ...(typeof f['times'] === 'number' ? { times: f['times'] } : {}),
    };
  };
  const failRequests = raw['failRequests'];
  if (isObject(failRequests) && typeof failRequests['status'] === 'number')
    plan.failRequests = { ...fault('failRequests'), status: failRequests['status'] };
  const delay = raw['delay'];
  if (isObject(delay) && typeof delay['ms'] === 'number') plan.delay = { ...fault('delay'), ms: delay['ms'] };
  const reset = fault('resetMidResponse');
  if (reset !== undefined) plan.resetMidResponse = reset;
  const omit = fault('omitProductHeader');
  if (omit !== undefined) plan.omitProductHeader = omit;
  for (const key of ['hangShare', 'dropLastItemShare'] as const) if (typeof raw[key] === 'number') plan[key] = raw[key];
  const tooLarge = raw['tooLarge'];
  if (isObject(tooLarge) && typeof tooLarge['maxBytes'] === 'number')
    plan.tooLarge = { ...fault('tooLarge'), maxBytes: tooLarge['maxBytes'], fromProxy: tooLarge['fromProxy'] === true };
  const html = raw['htmlAnswer'];
  if (isObject(html) && typeof html['status'] === 'number')
    plan.htmlAnswer = { ...fault('htmlAnswer'), status: html['status'] };
  return plan;
}

/**
 * `/_standin/*`, no authentication (tests only): PUT faults (replaces the plan), GET counters,
 * POST counters/reset, GET documents?index=pattern.
 */
export function handleControl(
  standin: ControlledStandin,
  method: string,
  path: string,
  query: URLSearchParams,
  body: Buffer,
  res: http.ServerResponse,
): void {
  try {
    if (path === '/_standin/faults' && (method === 'PUT' || method === 'POST')) {
      standin.setFaults(parsePlan(body));
      return send(res, 200, { acknowledged: true });
    }
    if (path === '/_standin/counters' && method === 'GET') return send(res, 200, standin.counters);
    if (path === '/_standin/counters/reset' && method === 'POST') {
      standin.resetCounters();
      return send(res, 200, { acknowledged: true });
    }
    if (path === '/_standin/documents' && method === 'GET') {
      const index = query.get('index') ?? undefined;
      return send(res, 200, { documents: standin.documents(index) });
    }
    send(res, 404, { error: `unknown control endpoint ${method} ${path}` });
  } catch (err) {
    send(res, 400, { error: err instanceof Error ? err.message : String(err) });
  }
}
