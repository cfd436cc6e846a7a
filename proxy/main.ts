import type { LoadedConfig } from '../config/load';

export function runProxy(_loaded: LoadedConfig): Promise<void> {
  return Promise.reject(new Error('runProxy: not built yet (placeholder)'));
}
