import type { Schema } from 'convict';

/** Only `apm-sidecar setup` reads this: the admin credential, never given to the proxy or forwarders. */
export interface SetupConfig {
  elasticsearch: { username: string | null; password: string | null; api_key: string | null };
}

export const setupSchema: Schema<SetupConfig> = {
  elasticsearch: {
    username: {
      doc: 'Admin user for `apm-sidecar setup` only (roles, templates, lifecycle policy, credentials). Hosts and TLS come from output.elasticsearch. Unset: setup uses the output.elasticsearch credential.',
      format: 'optional-string',
      default: null,
      env: 'APM_SIDECAR_SETUP_ES_USERNAME',
    },
    password: {
      doc: 'Password of the setup admin user.',
      format: 'optional-string',
      default: null,
      env: 'APM_SIDECAR_SETUP_ES_PASSWORD',
      sensitive: true,
    },
    api_key: {
      doc: 'API key ("id:key" or base64) for `apm-sidecar setup`, in place of username/password.',
      format: 'optional-string',
      default: null,
      env: 'APM_SIDECAR_SETUP_ES_API_KEY',
      sensitive: true,
    },
  },
};
