import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadManifest } from '../config/loadManifest';
import { manifestJsonSchema } from '../config/jsonSchema';
import { UserError } from '../release/errors';
import { isReleaseKind, RELEASE_KINDS, ReleaseKind } from '../release/version';
import { connectClient } from './connection';
import { DEFAULT_DB_FILE, devCommand } from './commands/dev';
import { demoCommand } from './commands/demo';
import { formatPlan, planRelease } from './commands/plan';
import { workerCommand, workerDefaults } from './commands/worker';
import { formatRelease } from './format';
import { prepareRelease, releaseState, startPreparedRelease } from './releases';

/** Exit codes scripts can rely on. */
export const EXIT = { done: 0, failed: 1, badInput: 2, waiting: 3 } as const;

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function parseKind(value: string): ReleaseKind {
  if (!isReleaseKind(value)) throw new InvalidArgumentError(`expected one of ${RELEASE_KINDS.join(', ')}`);
  return value;
}

function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return number;
}

const configOption = () => new Option('-c, --config <file>', 'the release manifest (YAML)').default('relflow.yaml');

export function buildProgram(): Command {
  const program = new Command('relflow')
    .description('Release automation for multi-repository products, as durable Temporal workflows.')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Connection: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY,
TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH.
Exit codes: 0 done, 1 failed or rejected, 2 bad input, 3 waiting at a gate.

Example:
  relflow dev &                                   # Temporal dev server + worker, Web UI on :8233
  relflow start ga --version 3.4 -c relflow.yaml  # start a GA release
  relflow status cloudify-3.4`,
    );

  program
    .command('dev')
    .description('run the embedded Temporal dev server (state in .relflow/) and a worker until Ctrl-C')
    .option('--ui-port <port>', 'Temporal Web UI port', parsePositive, 8233)
    .option('--db-file <file>', 'SQLite file that keeps the server state across restarts', DEFAULT_DB_FILE)
    .addHelpText('after', '\nExample:\n  relflow dev --ui-port 8233')
    .action(async (options: { uiPort: number; dbFile: string }) => devCommand(options));

  const defaults = workerDefaults();
  program
    .command('demo')
    .description('run a nightly and a GA release of a sandbox product on the embedded dev server')
    .addHelpText('after', '\nExample:\n  relflow demo        # or: npm run demo')
    .action(async () => demoCommand());

  program
    .command('worker')
    .description('run a worker against the Temporal server at TEMPORAL_ADDRESS')
    .option('--task-queue <name>', 'task queue to poll (RELFLOW_TASK_QUEUE)', defaults.taskQueue)
    .option('--workspace <dir>', 'persistent workspace for git mirrors and builds (RELFLOW_WORKSPACE)', defaults.workspace)
    .option('--max-activities <n>', 'activities run at once (RELFLOW_MAX_ACTIVITIES)', parsePositive, defaults.maxActivities)
    .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal.internal:7233 relflow worker --max-activities 8')
    .action(async (options: { taskQueue: string; workspace: string; maxActivities: number }) => workerCommand(options));

  program
    .command('start')
    .description('start a release')
    .argument('<kind>', `release kind: ${RELEASE_KINDS.join(', ')}`, parseKind)
    .addOption(configOption())
    .option('-v, --version <version>', 'release version: 3.4 (ga), 3.4m5 (milestone), 3.4.2 (patch); nightlies default to versions.core')
    .option('--plugins-version <version>', 'plugins version stream (default: versions.plugins of the manifest)')
    .option('--date <yyyymmdd>', 'date of a nightly (default: today, UTC)')
    .option('--task-queue <name>', 'task queue of the release workers (RELFLOW_TASK_QUEUE)', defaults.taskQueue)
    .option('--json', 'print the started release as JSON')
    .addHelpText('after', '\nExamples:\n  relflow start nightly -c relflow.yaml\n  relflow start milestone --version 3.4m5 -c relflow.yaml')
    .action(async (kind: ReleaseKind, options: { config: string; version?: string; pluginsVersion?: string; date?: string; taskQueue: string; json?: boolean }) => {
      const prepared = await prepareRelease({ kind, configFile: options.config, version: options.version, pluginsVersion: options.pluginsVersion, date: options.date, taskQueue: options.taskQueue });
      const plan = await startPreparedRelease(await connectClient(), prepared);
      if (options.json) out(JSON.stringify({ releaseId: plan.releaseId, kind: plan.kind, releaseName: plan.releaseName }));
      else out(`started ${plan.kind} release ${plan.releaseName}: ${plan.releaseId}\nwatch it with: relflow status ${plan.releaseId}`);
    });

  program
    .command('status')
    .description("print a release's stages and repositories")
    .argument('<release-id>', 'the release ID printed by `relflow start` (e.g. cloudify-3.4)')
    .option('--json', 'print the state as JSON')
    .addHelpText('after', '\nExample:\n  relflow status cloudify-nightly-20261124 --json')
    .action(async (releaseId: string, options: { json?: boolean }) => {
      const client = await connectClient();
      const state = await releaseState(client, releaseId);
      out(options.json ? JSON.stringify(state, null, 2) : formatRelease(state));
      process.exitCode = state.status === 'failed' || state.status === 'aborted' ? EXIT.failed : state.status === 'waiting' ? EXIT.waiting : EXIT.done;
    });

  program
    .command('plan')
    .description('show every name and file change a release would make, without writing anything anywhere')
    .argument('<kind>', `release kind: ${RELEASE_KINDS.join(', ')}`, parseKind)
    .addOption(configOption())
    .option('-v, --version <version>', 'release version (as for start)')
    .option('--plugins-version <version>', 'plugins version stream')
    .option('--date <yyyymmdd>', 'date of a nightly (default: today, UTC)')
    .option('--json', 'print the plan as JSON')
    .addHelpText('after', '\nExample:\n  relflow plan milestone --version 3.4m5 -c relflow.yaml')
    .action(async (kind: ReleaseKind, options: { config: string; version?: string; pluginsVersion?: string; date?: string; json?: boolean }) => {
      const report = await planRelease({ kind, configFile: options.config, version: options.version, pluginsVersion: options.pluginsVersion, date: options.date });
      out(options.json ? JSON.stringify(report, null, 2) : formatPlan(report));
    });

  program
    .command('validate')
    .description('check a release manifest and print every problem at once')
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  relflow validate -c relflow.example.yaml')
    .action((options: { config: string }) => {
      const manifest = loadManifest(options.config);
      out(`${options.config}: valid (${manifest.repositories.length} repositories, ${manifest.artifacts.length} artifacts)`);
    });

  program
    .command('schema')
    .description('write the JSON Schema of the release manifest (for editor completion and checks)')
    .option('-o, --output <file>', 'write to a file instead of standard output')
    .addHelpText('after', '\nExample:\n  relflow schema -o relflow.schema.json   # then: # yaml-language-server: $schema=relflow.schema.json')
    .action((options: { output?: string }) => {
      const schema = `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`;
      if (options.output) writeFileSync(options.output, schema);
      else out(schema);
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.done;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.done : EXIT.badInput;
    }
    if (error instanceof UserError) {
      process.stderr.write(`relflow: ${error.message}\n`);
      return EXIT.badInput;
    }
    process.stderr.write(`relflow: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}
