import type { LoadedConfig } from '../config/load';

export function runStart(_loaded: LoadedConfig): Promise<void> {
  return Promise.reject(new Error('runStart: not built yet (placeholder)'));
}
