import fs from 'node:fs';

/**
 * Re-reads files when they change (polled, so an atomic rename by a secret manager, cert-manager or certbot is
 * seen too) and on SIGHUP, without a restart. `apply` keeps the previous state when the new files are broken.
 */
export abstract class FileReloader {
  private closed = false;
  private readonly onSignal = (): void => this.reload('SIGHUP');
  private readonly onChange = (): void => this.reload('file change');

  constructor(
    private readonly files: readonly string[],
    private readonly pollIntervalMs: number,
  ) {}

  /** Loads the files again and applies them, or logs why not and keeps what is in use. */
  protected abstract apply(reason: string): void;

  start(): void {
    if (this.pollIntervalMs > 0)
      for (const file of this.files)
        fs.watchFile(file, { interval: this.pollIntervalMs, persistent: false }, this.onChange);
    process.on('SIGHUP', this.onSignal);
  }

  reload(reason: string): void {
    if (!this.closed) this.apply(reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const file of this.files) fs.unwatchFile(file, this.onChange);
    process.off('SIGHUP', this.onSignal);
  }
}
