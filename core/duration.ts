import ms from 'ms';

import { SidecarError } from './errors';

/** Parses a duration string as written in config ("30s", "1m", "500ms", "2h") into milliseconds. */
export function parseDuration(value: string): number {
  const parsed = /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(value.trim()) ? ms(value.trim() as ms.StringValue) : undefined;
  if (parsed === undefined || !Number.isFinite(parsed)) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      `"${value}" is not a duration: write a number with a unit, e.g. "500ms", "30s", "1m", "2h"`,
    );
  }
  return parsed;
}
