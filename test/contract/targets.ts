import { provisionTestPrincipals, type TestPrincipals } from '../support/elasticsearch/principals';
import { type EsTarget, esTarget, type EsTargetKind, realTargetAvailable } from '../support/es-target';

export interface ContractContext {
  readonly target: EsTarget;
  readonly principals: TestPrincipals;
}

/**
 * Runs `body` once against the stand-in and once against a real Elasticsearch (skipped, with one line saying
 * how to run it, when none is available). Where the two differ, the real node is right.
 */
export function describeEachTarget(name: string, body: (kind: EsTargetKind, ctx: () => ContractContext) => void): void {
  for (const kind of ['standin', 'real'] as const) {
    const available = kind === 'standin' || realTargetAvailable();
    (available ? describe : describe.skip)(`${name} [${kind}]`, () => {
      let context: ContractContext | undefined;
      beforeAll(async () => {
        const target = await esTarget(kind);
        if (target === undefined) throw new Error(`no ${kind} Elasticsearch target`);
        context = { target, principals: await provisionTestPrincipals(target) };
      }, 240_000);
      afterAll(async () => {
        await context?.target.close();
      });
      body(kind, () => {
        if (context === undefined) throw new Error('target not started');
        return context;
      });
    });
  }
}

/** A data-stream name unique to one test, under the APM patterns the roles and templates cover. */
export function uniqueStream(prefix: 'traces-apm' | 'logs-apm.error' | 'metrics-apm.internal'): string {
  return `${prefix}-t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
