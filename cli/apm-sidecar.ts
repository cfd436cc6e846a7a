#!/usr/bin/env node
import { Command, Option } from 'commander';

import { loadConfig, type LoadedConfig } from '../config/load';
import { describeForOperator } from '../core/errors';
import { sidecarVersion } from '../core/version';

// Each subcommand's module is loaded when that subcommand runs: a forwarder process never loads (nor compiles
// the intake schemas of) the proxy, and a proxy process never loads the forwarder's transform and client.

const program = new Command();

interface CommonOptions {
  config?: string;
  printConfig?: boolean;
}

function withCommon(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (YAML or JSON); default: $APM_SIDECAR_CONFIG')
    .option('--print-config', 'print the effective configuration, secrets masked, and exit');
}

/**
 * Runs a subcommand once its configuration is loaded (or prints it, --print-config): operator errors are
 * printed with their remediation and exit 1.
 */
function action<T extends CommonOptions>(run: (loaded: LoadedConfig, options: T) => Promise<number | void>) {
  return async (...received: unknown[]): Promise<void> => {
    const command = received[received.length - 1] as Command;
    const options = command.opts<T>();
    try {
      const loaded = loadConfig({ file: options.config });
      if (options.printConfig === true) {
        process.stdout.write(`${loaded.printable}\n`);
        return;
      }
      const code = await run(loaded, options);
      if (typeof code === 'number') process.exitCode = code;
    } catch (err) {
      process.stderr.write(`apm-sidecar ${command.name()}: ${describeForOperator(err)}\n`);
      exitSoon(1);
    }
  };
}

/**
 * A fatal error ends the process: at once when nothing is left open, else after a moment for log lines to
 * flush, whatever a half-started part still holds (a Redis connection that keeps retrying, a listener).
 * A process that printed its error and stayed up looks healthy to a supervisor that restarts on failure.
 */
function exitSoon(code: number): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
}

program
  .name('apm-sidecar')
  .description(
    'A secure, durable front door for Elastic APM data.\nAgents -> proxy (TLS, secret token, validation) -> Redis (BullMQ) -> forwarders -> Elasticsearch.',
  )
  .version(sidecarVersion)
  .showHelpAfterError()
  .addHelpText(
    'after',
    `
Examples:
  apm-sidecar start                                  try it: proxy + forwarder + private redis-server in ./data
  APM_SIDECAR_CONFIG=/etc/apm-sidecar.yml apm-sidecar check
  apm-sidecar setup --dry-run -c apm-sidecar.yml     print what setup would create
  apm-sidecar proxy -c apm-sidecar.yml --print-config
  APM_SIDECAR_SERVER_WORKERS=2 apm-sidecar proxy     two proxy processes on one port, for two cores (server.workers)

Configuration: one YAML/JSON file (--config or APM_SIDECAR_CONFIG), every key overridable by an
APM_SIDECAR_* environment variable, secrets also as <ENV>_FILE. Every key: docs/configuration.md.
Errors and their fixes: docs/errors.md. Deployment and operations: docs/security.md, docs/operations.md.`,
  );

withCommon(program.command('start'))
  .description(
    'run everything on this machine for a first try: proxy + forwarder, a private redis-server, a local CA, certificate and token in path.data; prints the agent settings',
  )
  .action(action(async (loaded) => (await import('./start.js')).runStart(loaded)));

withCommon(program.command('proxy'))
  .description(
    'run the intake proxy: TLS, credentials, intake validation, durable enqueue into Redis; server.workers > 1 runs that many processes on one port',
  )
  .action(action(async (loaded) => (await import('../proxy/main.js')).runProxy(loaded)));

withCommon(program.command('forwarder'))
  .description(
    'run one forwarder: drain the queue, transform events into APM documents, bulk-write them to Elasticsearch',
  )
  .action(action(async (loaded) => (await import('../forwarder/main.js')).runForwarder(loaded)));

withCommon(program.command('setup'))
  .description(
    'with admin credentials: install or verify templates, lifecycle policy, writer and reader roles (idempotent)',
  )
  .option('--dry-run', 'print every request it would send, send nothing')
  .option('--create-writer-api-key', 'create and print an API key limited to the writer role')
  .option('--create-writer-user <name>', 'create a user with the writer role (password printed once)')
  .option(
    '--create-agent-api-key <name>',
    'create and print an API key agents can use (apm event:write, config_agent:read)',
  )
  .action(
    action(async (loaded, options: CommonOptions & Record<string, unknown>) =>
      (await import('./setup.js')).runSetup(loaded, options),
    ),
  );

withCommon(program.command('check'))
  .description(
    'validate the config, reach Redis and Elasticsearch, verify privileges; exit 1 with a remediation per failed check',
  )
  .action(action(async (loaded) => (await import('./check.js')).runCheck(loaded)));

const dlq = program.command('dlq').description('inspect and re-drive dead-lettered documents');
withCommon(dlq.command('list'))
  .description('counts by reason, with samples')
  .addOption(new Option('--samples <n>', 'samples shown per reason').default('3'))
  .action(
    action(async (loaded, options: CommonOptions & { samples: string }) =>
      (await import('./dlq.js')).runDlqList(loaded, { samples: Number(options.samples) }),
    ),
  );
withCommon(dlq.command('replay'))
  .description('put dead-lettered documents back on the queue (with progress)')
  .option('--reason <reason>', 'only documents dead-lettered for this reason')
  .action(
    action(async (loaded, options: CommonOptions & { reason?: string }) =>
      (await import('./dlq.js')).runDlqReplay(loaded, { reason: options.reason }),
    ),
  );
withCommon(dlq.command('purge'))
  .description('delete dead-lettered documents')
  .option('--reason <reason>', 'only documents dead-lettered for this reason')
  .option('-y, --yes', 'delete without asking (needed where no terminal can answer)')
  .action(
    action(async (loaded, options: CommonOptions & { reason?: string; yes?: boolean }) =>
      (await import('./dlq.js')).runDlqPurge(loaded, { reason: options.reason, yes: options.yes === true }),
    ),
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`apm-sidecar: ${describeForOperator(err)}\n`);
  exitSoon(1);
});
