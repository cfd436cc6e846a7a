import type { LoadedConfig } from '../config/load';

export function runDlqList(_loaded: LoadedConfig, _o: { samples: number }): Promise<number> {
  return Promise.reject(new Error('dlq: not built yet (placeholder)'));
}
export function runDlqReplay(_loaded: LoadedConfig, _o: { reason: string | undefined }): Promise<number> {
  return Promise.reject(new Error('dlq: not built yet (placeholder)'));
}
export function runDlqPurge(_loaded: LoadedConfig, _o: { reason: string | undefined }): Promise<number> {
  return Promise.reject(new Error('dlq: not built yet (placeholder)'));
}
