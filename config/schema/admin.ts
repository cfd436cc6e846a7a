import type { Schema } from 'convict';

/** admin: the operators' listener. */
export interface AdminConfig {
  host: string;
}

export const adminSchema: Schema<AdminConfig> = {
  host: {
    doc: "Address of the admin listener (/healthz, /readyz, /metrics); never the agents' port.",
    format: 'host-port',
    default: '127.0.0.1:8201',
    env: 'APM_SIDECAR_ADMIN_HOST',
  },
};
