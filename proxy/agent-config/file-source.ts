import fs from 'node:fs';
import path from 'node:path';

import type { Logger } from 'pino';

import { describeForOperator, SidecarError } from '../../core/errors';
import { closeOnce } from '../../core/lifecycle';
import {
  type AgentConfigEntry,
  type AgentConfigQuery,
  type AgentConfigResult,
  matchAgentConfig,
  parseAgentConfigEntry,
} from './model';
import { RefreshingCache } from './refreshing-cache';
import type { AgentConfigSource } from './source';

const fileRemediation =
  'agent_config.file must be a YAML or JSON list of {service: {name, environment}, settings: {transaction_sample_rate: "0.5", ...}}; ' +
  'leave service.name or service.environment out to match any';

/**
 * Parses the file's text; YAML is a superset of JSON, so one parser reads both. The yaml module is loaded on the
 * first file read (agent_config.source file only), with a synchronous require: import() stays an ES module import
 * under Node16 resolution, which jest's CommonJS VM cannot run.
 */
export function parseAgentConfigFile(text: string, file: string): AgentConfigEntry[] {
  let document: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
    const { parse } = require('yaml') as typeof import('yaml');
    document = parse(text);
  } catch (err) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      `agent_config.file ${file} is not valid YAML or JSON: ${String(err)}`,
      { cause: err, remediation: fileRemediation },
    );
  }
  if (document === null || document === undefined) return [];
  if (!Array.isArray(document)) {
    throw new SidecarError('SIDECAR_ERR_CONFIG_INVALID', `agent_config.file ${file} must hold a list`, {
      remediation: fileRemediation,
    });
  }
  try {
    return document.map((item: unknown, index) => parseAgentConfigEntry(item, `${file}[${index}]`));
  } catch (err) {
    throw new SidecarError(
      'SIDECAR_ERR_CONFIG_INVALID',
      `agent_config.file ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, remediation: fileRemediation },
    );
  }
}

/**
 * agent_config.source: file. The file is read at start (a missing or invalid file stops the process) and again
 * when it changes: a watch on its directory (editors and config-map mounts replace the file by rename, which a
 * watch on the file itself would miss) makes the next poll re-read it, and the cache period re-reads it anyway
 * where watching is unreliable (network file systems). A broken edit keeps the previous configuration served.
 */
export class FileAgentConfigSource implements AgentConfigSource {
  readonly kind = 'file';
  private readonly cache: RefreshingCache<AgentConfigEntry[]>;
  private watcher: fs.FSWatcher | undefined;

  constructor(
    private readonly file: string,
    periodMs: number,
    private readonly logger: Logger,
  ) {
    this.cache = new RefreshingCache({
      periodMs,
      fetch: () => this.read(),
      onStaleServed: (err) =>
        this.logger.error(
          { err, file },
          `agent_config.file could not be reloaded; still serving the previous configuration. ${describeForOperator(err)}`,
        ),
    });
  }

  async start(): Promise<void> {
    const entries = await this.cache.refresh();
    this.logger.info({ file: this.file, entries: entries.length }, 'agent configuration loaded from file');
    this.watch();
  }

  async lookup(query: AgentConfigQuery): Promise<AgentConfigResult> {
    return matchAgentConfig(query, await this.cache.get());
  }

  readonly close = closeOnce(() => {
    this.watcher?.close();
    this.watcher = undefined;
    return Promise.resolve();
  });

  private async read(): Promise<AgentConfigEntry[]> {
    let text: string;
    try {
      text = await fs.promises.readFile(this.file, 'utf8');
    } catch (err) {
      throw new SidecarError(
        'SIDECAR_ERR_CONFIG_INVALID',
        `cannot read agent_config.file ${this.file}: ${err instanceof Error ? err.message : String(err)}`,
        {
          cause: err,
          remediation: 'set agent_config.file to a readable YAML or JSON file',
        },
      );
    }
    return parseAgentConfigFile(text, this.file);
  }

  private watch(): void {
    const name = path.basename(this.file);
    try {
      this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.cache.invalidate();
      });
      this.watcher.on('error', (err) =>
        this.logger.warn(
          { err, file: this.file },
          'watching agent_config.file failed; changes are picked up once per cache period',
        ),
      );
    } catch (err) {
      this.logger.warn(
        { err, file: this.file },
        'cannot watch agent_config.file; changes are picked up once per cache period',
      );
    }
  }
}
