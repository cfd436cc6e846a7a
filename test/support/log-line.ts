/** One log line as tests read it: ECS's `log.level` and `message` also under the short names `level` and `msg`. */
export interface LogLine {
  readonly level: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/**
 * Parses one line of a process's ECS JSON log (core/log.ts). Keeps every field, and adds `level` and `msg` so
 * tests match on what a line says without knowing the ECS field names. A line that is not JSON is kept as `msg`.
 */
export function parseLogLine(text: string): LogLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { level: 'unknown', msg: text };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { level: 'unknown', msg: text };
  const fields = value as Record<string, unknown>;
  const level = fields['log.level'];
  const message = fields.message;
  return {
    ...fields,
    level: typeof level === 'string' ? level : 'unknown',
    ...(typeof message === 'string' ? { msg: message } : {}),
  };
}

/** Every log line in a chunk of output (blank lines skipped). */
export function parseLogLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(parseLogLine);
}
