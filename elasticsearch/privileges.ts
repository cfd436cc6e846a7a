import type { Client } from '@elastic/elasticsearch';
import { apmIndexPatterns } from './setup/roles';

export interface RequiredPrivileges {
  readonly cluster: readonly string[];
  readonly index: ReadonlyArray<{ readonly names: readonly string[]; readonly privileges: readonly string[] }>;
}

/** What a forwarder's credential must hold. */
export const writerPrivileges: RequiredPrivileges = {
  cluster: ['monitor'],
  index: [{ names: [...apmIndexPatterns], privileges: ['auto_configure', 'create_doc'] }],
};

/**
 * Asks the cluster which of `required` the client's own credential lacks, as human-readable lines
 * ("create_doc on traces-apm*"). Empty when everything is held.
 */
export async function missingPrivileges(client: Client, required: RequiredPrivileges): Promise<string[]> {
  const res = await client.security.hasPrivileges({
    cluster: [...required.cluster],
    index: required.index.map((i) => ({ names: [...i.names], privileges: [...i.privileges] })),
  });
  const missing: string[] = [];
  for (const [name, held] of Object.entries(res.cluster)) if (!held) missing.push(`cluster privilege ${name}`);
  for (const [index, privileges] of Object.entries(res.index)) {
    for (const [privilege, held] of Object.entries(privileges)) if (!held) missing.push(`${privilege} on ${index}`);
  }
  return missing;
}
