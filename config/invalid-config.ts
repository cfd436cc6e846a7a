import fs from 'node:fs';

import { SidecarError } from '../core/errors';
import { settingName } from './leaves';

/** SIDECAR_ERR_CONFIG_INVALID; the default remediation suits a message that names the key to change. */
export function invalidConfig(
  message: string,
  remediation = 'fix the key named above in the config file or environment; see docs/configuration.md',
): SidecarError {
  return new SidecarError('SIDECAR_ERR_CONFIG_INVALID', message, { remediation });
}

/** A file's text; a read failure is a config error naming `what`, the key or variable that points at the file. */
export function readConfigured(file: string, what: string, remediation?: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw invalidConfig(
      `${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      remediation,
    );
  }
}

/** A PEM file named by `key` (server.ssl.*, output.elasticsearch.ssl.*), read for a TLS context. */
export function readPem(file: string, key: string): string {
  return readConfigured(file, key, `make ${file} readable by this process, or point ${settingName(key)} at a PEM file`);
}
