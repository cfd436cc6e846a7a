import type { LoadedConfig } from '../config/load';

export function runCheck(_loaded: LoadedConfig): Promise<number> {
  return Promise.reject(new Error('check: not built yet (placeholder)'));
}
