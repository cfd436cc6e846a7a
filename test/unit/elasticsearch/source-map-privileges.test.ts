import { loadConfig } from '../../../config/load';
import { requiredPrivilegesFor, sourceMappingOn, writerPrivileges } from '../../../elasticsearch/privileges';
import {
  managedRoles,
  sourceMapIndex,
  writerApiKeyRoleDescriptorsFor,
  writerRoleName,
} from '../../../elasticsearch/setup/roles';

const config = (rum: Record<string, unknown>) =>
  loadConfig({
    env: {},
    overrides: { server: { rum }, output: { elasticsearch: { hosts: ['https://es.example:9200'] } } },
  }).config;

const readsSourceMaps = (
  indices: ReadonlyArray<{ names: readonly string[]; privileges: readonly string[] }>,
): boolean => indices.some((i) => i.names.includes(sourceMapIndex) && i.privileges.includes('read'));

describe('read on .apm-source-map only with RUM source mapping on', () => {
  it('is off by default and with source mapping disabled', () => {
    expect(sourceMappingOn(config({}))).toBe(false);
    expect(sourceMappingOn(config({ enabled: true, source_mapping: { enabled: false } }))).toBe(false);
    expect(requiredPrivilegesFor('forwarder', config({}))).toEqual(writerPrivileges);
    const writer = managedRoles().find((r) => r.name === writerRoleName);
    expect(readsSourceMaps(writer?.body.indices ?? [])).toBe(false);
  });

  it('is asked for by the forwarder check, granted by the role and the writer API key when on', () => {
    const on = config({ enabled: true });
    expect(sourceMappingOn(on)).toBe(true);
    expect(readsSourceMaps(requiredPrivilegesFor('forwarder', on)?.index ?? [])).toBe(true);
    const writer = managedRoles({ sourceMapping: true }).find((r) => r.name === writerRoleName);
    expect(readsSourceMaps(writer?.body.indices ?? [])).toBe(true);
    expect(readsSourceMaps(writerApiKeyRoleDescriptorsFor(true)[writerRoleName]?.indices ?? [])).toBe(true);
    expect(readsSourceMaps(writerApiKeyRoleDescriptorsFor(false)[writerRoleName]?.indices ?? [])).toBe(false);
    // the writer still only creates documents in the APM data streams
    expect(writer?.body.indices.filter((i) => i.names.includes(sourceMapIndex)).flatMap((i) => i.privileges)).toEqual([
      'read',
    ]);
  });
});
