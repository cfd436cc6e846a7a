import type { LoadedConfig } from '../config/load';

export function runForwarder(_loaded: LoadedConfig): Promise<void> {
  return Promise.reject(new Error('runForwarder: not built yet (placeholder)'));
}
