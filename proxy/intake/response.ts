import { agentResults, resultFor } from '../../core/results';
import { apmJson, type HandledResponse } from '../answer';
import type { IntakeLineError, IntakeOutcome } from './process';

/**
 * The intake body encoder, exactly as APM Server writes it: 202 with no body (`{"accepted":N}` with ?verbose),
 * otherwise `{"accepted":N,"errors":[{"message","document"}]}` with at most 5 errors and the highest status
 * among them. Headers common to every answer (nosniff, Connection: close) are the renderer's (proxy/answer.ts).
 */

const listedErrors = 5;

export function renderIntakeResponse(
  outcome: Pick<IntakeOutcome, 'accepted' | 'errors'>,
  options: { readonly verbose: boolean; readonly acceptsJson: boolean },
): HandledResponse & { readonly body: string } {
  const statusOf = (e: IntakeLineError): number => agentResults[resultFor(e.code)].status;
  const status = Math.max(agentResults.accepted.status, ...outcome.errors.map(statusOf));
  const decisive = outcome.errors.find((e) => statusOf(e) === status);
  const result = decisive === undefined ? 'accepted' : resultFor(decisive.code);
  const errors = outcome.errors
    .slice(0, listedErrors)
    .map(({ message, document }) => (document === undefined || document === '' ? { message } : { message, document }));
  const body = errors.length > 0 ? { accepted: outcome.accepted, errors } : { accepted: outcome.accepted };
  if (status < 400 && !options.verbose) return { status, headers: {}, body: '', result };
  return { ...apmJson(body, options.acceptsJson), status, result };
}
