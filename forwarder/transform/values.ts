import { type JsonObject } from './json';
import { sanitizeLabelKey } from './labels';

/**
 * Free-form maps (custom context, env, cookies, stack frame vars) keep their values but get label-safe keys at the
 * top level, as APM Server's updateFields does. Values are not deep-copied: documents are serialised, never mutated.
 */
export function sanitizeKeys(value: JsonObject): JsonObject {
  let needs = false;
  for (const key in value) {
    if (/[.*"]/.test(key)) {
      needs = true;
      break;
    }
  }
  if (!needs) return value;
  const out: JsonObject = {};
  for (const key in value) out[sanitizeLabelKey(key)] = value[key];
  return out;
}

/** Truncates a number toward zero and clamps at zero (Go's uint conversions of non-negative values). */
function toUint(value: number): number {
  return value > 0 ? Math.trunc(value) : 0;
}

/** Milliseconds (float) to whole microseconds, as APM Server does: ns = trunc(ms * 1e6), then us = trunc(ns / 1000). */
export function msToUs(ms: number): number {
  return Math.trunc(toUint(ms * 1e6) / 1000);
}
