import { configLeaves } from '../config/leaves';
import { errorCatalogue, type ErrorSpec, internalErrorCatalogue } from '../core/errors';
import { type AgentResult, agentResults } from '../core/results';

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

/** docs/errors.md, generated from core/results.ts (agents) and core/errors.ts (operators). */
export function renderErrorsDoc(): string {
  const results = Object.entries(agentResults) as Array<[string, AgentResult]>;
  const agentRows = results.map(
    ([id, r]) =>
      `| \`${id}\` | ${r.status} | ${r.code === undefined ? '' : `\`${r.code}\``} | ${r.retryAfter ?? ''} | ${cell(r.message)} | ${cell(r.description)} |`,
  );
  const operatorRows = (Object.entries(errorCatalogue) as Array<[string, ErrorSpec]>).map(
    ([code, spec]) =>
      `| \`${code}\` | ${spec.retryable ? 'yes' : 'no'} | ${cell(spec.message)} | ${cell(spec.remediation)} |`,
  );
  const internalRows = Object.entries(internalErrorCatalogue).map(
    ([code, description]) => `| \`${code}\` | ${cell(description)} |`,
  );
  return [
    '# Errors',
    '',
    '<!-- Generated from core/results.ts and core/errors.ts by `npm run docs`. Do not edit by hand; a test fails when it is stale. -->',
    '',
    'Every failure apm-sidecar reports has one stable code. What agents are answered is the agent result table:',
    'the status, the message (as APM Server words it) and `Retry-After`; the result id is the `result` label of',
    '`apm_sidecar_intake_requests_total{result=...}`. Every status >= 400 closes the connection. 5xx are logged at',
    'error level, except expected backpressure and outages (the 503s), logged at debug per request and their cause',
    'once at warn when it starts; 4xx at debug. Operator errors (refused to start, Elasticsearch preconditions) have no',
    'status: operators see the code with a remediation on stderr or in the log; one that reaches a request answers',
    '`internal_error`.',
    '',
    'Intake validation failures answer `{"accepted":N,"errors":[{"message":...,"document":...}]}` (at most 5',
    'errors; status is the highest among them); OTLP failures a `google.rpc.Status`; every other failure',
    '`{"error":"<message>"}`.',
    '',
    '## Agent results',
    '',
    '| result | status | code | Retry-After (s) | message | when, and what to do |',
    '|---|---|---|---|---|---|',
    ...agentRows,
    '',
    '## Operator errors',
    '',
    '| code | retry helps | message | when, and what to do |',
    '|---|---|---|---|',
    ...operatorRows,
    '',
    '## Internal codes',
    '',
    'Errors that stay inside a process (a boundary that does not parse, a marker between pieces) carry a code too,',
    'so the log line that reports one names it (`error.code`); what each becomes is said here.',
    '',
    '| code | where, and what it becomes |',
    '|---|---|',
    ...internalRows,
    '',
  ].join('\n');
}
