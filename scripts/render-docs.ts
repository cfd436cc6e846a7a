import { configLeaves } from '../config/leaves';
import { errorCatalogue, type ErrorSpec } from '../core/errors';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function showDefault(value: unknown): string {
  if (value === null) return '(unset)';
  if (Array.isArray(value))
    return value.length === 0
      ? '[]'
      : `\`${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}\``;
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

/** docs/configuration.md, generated from the schema (config/schema.ts and its sections in config/schema/). */
export function renderConfigurationDoc(): string {
  const rows = configLeaves().map(
    (l) =>
      `| \`${l.key}\` | \`${l.env}\`${l.sensitive ? ' (also `' + l.env + '_FILE`)' : ''} | ${cell(l.format)} | ${showDefault(l.default)} | ${cell(l.doc)}${l.sensitive ? ' Secret: masked in --print-config and logs.' : ''} |`,
  );
  return [
    '# Configuration',
    '',
    '<!-- Generated from config/schema/ by `npm run docs`. Do not edit by hand; a test fails when it is stale. -->',
    '',
    'apm-sidecar reads one YAML or JSON file, given by `--config FILE` or `APM_SIDECAR_CONFIG`, then environment',
    'variables, which win. Keys follow apm-server.yml naming. Sizes are bytes; durations are strings such as',
    '`500ms`, `30s`, `1m`, `2h`, `7d`. Lists in environment variables are comma-separated. A secret may be given',
    'as a file with `<ENV>_FILE` (Docker and Kubernetes secrets). Unknown keys, unknown `APM_SIDECAR_*`',
    'variables and bad values stop the process before any socket opens, naming the key and the fix.',
    '`apm-sidecar <command> --print-config` shows the effective configuration with secrets masked.',
    '',
    'Example: [`config/examples/apm-sidecar.yml`](../config/examples/apm-sidecar.yml).',
    '',
    '| key | environment | format | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** docs/errors.md, generated from core/errors.ts. */
export function renderErrorsDoc(): string {
  const entries = Object.entries(errorCatalogue) as Array<[string, ErrorSpec]>;
  const rows = entries.map(
    ([code, spec]) =>
      `| \`${code}\` | ${spec.status} | \`${spec.result}\` | ${spec.retryable ? 'yes' : 'no'} | ${cell(spec.message)} | ${cell(spec.description)} |`,
  );
  return [
    '# Errors',
    '',
    '<!-- Generated from core/errors.ts by `npm run docs`. Do not edit by hand; a test fails when it is stale. -->',
    '',
    'Every failure apm-sidecar reports has one stable code. Agents see the status and the message (as APM Server',
    'words it); the `result` is the label of `apm_sidecar_intake_requests_total{result=...}`; operators see the',
    'code with a remediation on stderr or in the log. 5xx are logged at error level; retryable 503s (backpressure,',
    'outages) at debug per request, their cause once at warn when it starts; 4xx at debug. Every status >= 400 closes the connection.',
    '',
    'Intake validation failures answer `{"accepted":N,"errors":[{"message":...,"document":...}]}` (at most 5',
    'errors; status is the highest among them); every other failure answers `{"error":"<message>"}`.',
    '',
    '| code | status | result | retry helps | message | when, and what to do |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
