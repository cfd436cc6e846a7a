/** The data the APM writer and reader roles cover (SPEC: Documents and Elasticsearch). */
export const apmIndexPatterns = ['traces-apm*', 'logs-apm*', 'metrics-apm*'] as const;

export const writerRoleName = 'apm_sidecar_writer';
export const readerRoleName = 'apm_sidecar_reader';

/** Least privilege for a forwarder: cluster monitor; auto_configure + create_doc on the APM data streams. */
export const writerRole = {
  cluster: ['monitor'],
  indices: [{ names: [...apmIndexPatterns], privileges: ['auto_configure', 'create_doc'] }],
  metadata: { managed_by: 'apm-sidecar' },
};

/** What readers (Kibana users of the APM app) need on the same data. */
export const readerRole = {
  cluster: [],
  indices: [{ names: [...apmIndexPatterns], privileges: ['read', 'view_index_metadata'] }],
  metadata: { managed_by: 'apm-sidecar' },
};
