import pino from 'pino';

import type { LoadedConfig } from '../config/load';
import { runtimeConfig } from '../config/runtime';
import { SidecarError } from '../core/errors';
import { createLogger } from '../core/log';
import { createEsClient, type EsCredential } from '../elasticsearch/client';
import { sourceMappingOn } from '../elasticsearch/privileges';
import { clientSender } from '../elasticsearch/setup/requests';
import { dryRunSender, runSetupSteps, type SetupOptions, type SetupOutput } from '../elasticsearch/setup/runner';
import type { StepResult } from '../elasticsearch/setup/steps';

function present(value: string | null): boolean {
  return value !== null && value !== '';
}

/** The admin credential: setup.elasticsearch when given, else the output credential (then it must be an admin). */
function setupCredential(loaded: LoadedConfig): {
  credential: EsCredential;
  source: 'setup.elasticsearch' | 'output.elasticsearch';
} {
  const setup = loaded.config.setup.elasticsearch;
  if (present(setup.username) || present(setup.api_key)) return { credential: setup, source: 'setup.elasticsearch' };
  return { credential: loaded.config.output.elasticsearch, source: 'output.elasticsearch' };
}

function setupOptionsFrom(options: Record<string, unknown>, loaded: LoadedConfig): SetupOptions {
  const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
  return {
    dryRun: options.dryRun === true,
    createWriterApiKey: options.createWriterApiKey === true,
    createWriterUser: text(options.createWriterUser),
    createAgentApiKey: text(options.createAgentApiKey),
    agentConfigFromElasticsearch: loaded.config.agent_config.source === 'elasticsearch',
    sourceMapping: sourceMappingOn(loaded.config),
  };
}

function formatStep(result: StepResult): string {
  const detail = result.detail === undefined ? '' : ` (${result.detail})`;
  return `${result.object.padEnd(52, ' ')} ${result.outcome}${detail}`;
}

function stdoutOutput(): SetupOutput {
  return {
    step: (result) => process.stdout.write(`${formatStep(result)}\n`),
    line: (text) => process.stdout.write(`${text}\n`),
  };
}

/** apm-sidecar setup: see elasticsearch/setup/runner.ts. Returns the exit code. */
export async function runSetup(loaded: LoadedConfig, rawOptions: Record<string, unknown>): Promise<number> {
  const options = setupOptionsFrom(rawOptions, loaded);
  const output = stdoutOutput();
  const es = loaded.config.output.elasticsearch;
  if (options.dryRun && es.hosts.length === 0) {
    output.line(
      'dry run without output.elasticsearch.hosts: nothing is sent; these are the requests setup makes on an empty cluster with ILM',
    );
    await runSetupSteps(dryRunSender(output), { ...options, planForEmptyCluster: true }, output);
    return 0;
  }
  if (es.hosts.length === 0) {
    throw new SidecarError('SIDECAR_ERR_CONFIG_INVALID', 'setup needs output.elasticsearch.hosts', {
      remediation: "set output.elasticsearch.hosts (APM_SIDECAR_ES_HOSTS) to the cluster's https URL(s)",
    });
  }
  const logger = createLogger({ name: 'setup', level: loaded.config.log.level, destination: pino.destination(2) });
  const { credential, source } = setupCredential(loaded);
  const client = createEsClient(runtimeConfig(loaded.config).elasticsearch, {}, { credential, logger });
  try {
    const sender = clientSender(client, source);
    if (options.dryRun) {
      output.line(`dry run: reading ${es.hosts.join(', ')} as the ${source} credential; nothing is written`);
      await runSetupSteps(dryRunSender(output, sender), options, output);
      output.line('dry run done: run without --dry-run to make the changes above');
      return 0;
    }
    output.line(`setting up ${es.hosts.join(', ')} as the ${source} credential`);
    await runSetupSteps(sender, options, output);
    output.line('setup done');
    return 0;
  } finally {
    await client.close();
  }
}
