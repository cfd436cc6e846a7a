import { SidecarError } from '../../core/errors';

/** Runs `fn` and returns the SidecarError it throws; fails when it throws nothing or something else. */
export function configError(fn: () => unknown): SidecarError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SidecarError) return err;
    throw err;
  }
  throw new Error('expected a configuration error');
}
