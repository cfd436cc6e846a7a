export interface AgentSettings {
  readonly serverUrl: string;
  readonly secretToken: string | undefined;
  readonly serverCaCertFile: string | undefined;
}

/** What a user pastes into an agent: the option names of the Node agent, then the same as ELASTIC_APM_* variables. */
export function formatAgentSettings(settings: AgentSettings): string {
  const options: Array<[string, string, string]> = [
    ['serverUrl', 'ELASTIC_APM_SERVER_URL', settings.serverUrl],
    ...(settings.secretToken === undefined
      ? []
      : [['secretToken', 'ELASTIC_APM_SECRET_TOKEN', settings.secretToken] as [string, string, string]]),
    ...(settings.serverCaCertFile === undefined
      ? []
      : [
          ['serverCaCertFile', 'ELASTIC_APM_SERVER_CA_CERT_FILE', settings.serverCaCertFile] as [
            string,
            string,
            string,
          ],
        ]),
  ];
  const width = Math.max(...options.map(([name]) => name.length));
  return [
    '',
    'Agent settings:',
    ...options.map(([name, , value]) => `  ${name.padEnd(width)}  ${value}`),
    '',
    'As environment variables:',
    ...options.map(([, env, value]) => `  export ${env}=${shellQuote(value)}`),
    '',
    'Press Ctrl-C to stop everything apm-sidecar start started.',
    '',
  ].join('\n');
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, "'\\''")}'`;
}

/** The URL agents on this machine use; a wildcard listen address is reached through localhost. */
export function serverUrlFor(tls: boolean, host: string, port: number): string {
  const reachable = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host;
  const bracketed = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `${tls ? 'https' : 'http'}://${bracketed}:${port}`;
}
