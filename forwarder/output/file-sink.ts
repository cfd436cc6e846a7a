import fs from 'node:fs';
import path from 'node:path';

import type { BulkSink, BulkWriteResult, PreparedDocument } from './sink';

/**
 * With no Elasticsearch hosts (a first local try), documents go to ndjson files under <path.data>/documents/, in
 * bulk format (a create action line, then the document), so a file can later be sent to `_bulk` as it is. A file
 * is rotated once it reaches rotateBytes. Delivery is at-least-once here too, but files cannot refuse a second
 * copy: a redelivered job can write an event twice, with the same `_id`.
 */
export class FileSink implements BulkSink {
  private handle: fs.promises.FileHandle | undefined;
  private written = 0;
  private writing: Promise<unknown> = Promise.resolve();
  private readonly dir: string;
  private sequence = 0;

  constructor(
    dataPath: string,
    private readonly rotateBytes: number,
  ) {
    this.dir = path.join(dataPath, 'documents');
  }

  /** The directory the files are written to. */
  get directory(): string {
    return this.dir;
  }

  write(documents: readonly PreparedDocument[]): Promise<BulkWriteResult> {
    // Appends are serialized so that two bulks never interleave within a file.
    const result = this.writing.then(() => this.append(documents));
    this.writing = result.catch(() => undefined);
    return result;
  }

  private async append(documents: readonly PreparedDocument[]): Promise<BulkWriteResult> {
    try {
      const body = documents.map((d) => d.lines).join('');
      const handle = await this.fileFor(Buffer.byteLength(body));
      await handle.appendFile(body);
      await handle.datasync();
      this.written += Buffer.byteLength(body);
      return { ok: true, items: documents.map(() => ({ kind: 'indexed' as const })) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return { ok: false, failure: { kind: 'retry', status: null, errorType: 'file_write_error', reason } };
    }
  }

  private async fileFor(nextBytes: number): Promise<fs.promises.FileHandle> {
    if (this.handle !== undefined && this.written > 0 && this.written + nextBytes > this.rotateBytes) {
      await this.handle.close();
      this.handle = undefined;
    }
    if (this.handle === undefined) {
      await fs.promises.mkdir(this.dir, { recursive: true });
      this.sequence++;
      const name = `documents-${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${this.sequence}.ndjson`;
      this.handle = await fs.promises.open(path.join(this.dir, name), 'a');
      this.written = 0;
    }
    return this.handle;
  }

  async close(): Promise<void> {
    await this.writing;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
