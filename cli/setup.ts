import type { LoadedConfig } from '../config/load';

export function runSetup(_loaded: LoadedConfig, _options: Record<string, unknown>): Promise<number> {
  return Promise.reject(new Error('setup: not built yet (placeholder)'));
}
