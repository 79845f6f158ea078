import { writeFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadManifest } from '../config/loadManifest';
import { manifestJsonSchema } from '../config/jsonSchema';
import { UserError } from '../config/errors';
import { isReleaseKind, RELEASE_KINDS, ReleaseKind } from '../release/version';
import { BuildMachine, reapBuildMachines } from '../activities/builders/ec2';
import { isReleaseRunning } from '../activities/reaper';
import { connectClient, temporalSettings } from './connection';
import { installationOf } from '../release/plan';
import { durationMs } from '../release/duration';
import { DEFAULT_DB_FILE, devCommand } from './commands/dev';
import { demoCommand } from './commands/demo';
import { formatPlan, planRelease } from './commands/plan';
import { workerCommand, workerDefaults } from './commands/worker';
import { formatRelease, formatRuns, htmlReport, markdownReport } from './format';
import { createNightlySchedule, createReapSchedule, describeSchedule, listSchedules, scheduleAction } from './schedules';
import type { GateName, ReleaseState } from '../release/model';
import {
  decideGate,
  listReleases,
  operateRelease,
  prepareRelease,
  releaseRuns,
  releaseState,
  retagRelease,
  startPreparedRelease,
} from './releases';

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

function parseDuration(value: string): string {
  try {
    durationMs(value);
  } catch {
    throw new InvalidArgumentError('expected a duration such as 30s, 15m, 2h or 3d');
  }
  return value;
}

const configOption = () => new Option('-c, --config <file>', 'the release manifest (YAML)').default('relflow.yaml');

/** 0 done (or still running), 1 failed, aborted, cancelled or a gate rejected, 3 waiting at a gate. */
export function exitCodeOf(state: ReleaseState): number {
  if (['failed', 'aborted', 'cancelled', 'blocked'].includes(state.status)) return EXIT.failed;
  if (state.status === 'waiting') return EXIT.waiting;
  if (state.gates.some((gate) => gate.status === 'rejected' || gate.status === 'timed-out')) return EXIT.failed;
  return EXIT.done;
}

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
    .option('--build-task-queue <name>', 'task queue of the build workers (RELFLOW_BUILD_TASK_QUEUE)', defaults.buildTaskQueue)
    .option('--json', 'print the started release as JSON')
    .addHelpText('after', '\nExamples:\n  relflow start nightly -c relflow.yaml\n  relflow start milestone --version 3.4m5 -c relflow.yaml')
    .action(
      async (
        kind: ReleaseKind,
        options: {
          config: string;
          version?: string;
          pluginsVersion?: string;
          date?: string;
          taskQueue: string;
          buildTaskQueue: string;
          json?: boolean;
        },
      ) => {
        const prepared = await prepareRelease({
          kind,
          configFile: options.config,
          version: options.version,
          pluginsVersion: options.pluginsVersion,
          date: options.date,
          taskQueue: options.taskQueue,
          buildTaskQueue: options.buildTaskQueue,
        });
        const { plan, started, state, continues } = await startPreparedRelease(await connectClient(), prepared);
        if (options.json) {
          out(
            JSON.stringify({
              releaseId: plan.releaseId,
              kind: plan.kind,
              releaseName: plan.releaseName,
              started,
              status: state?.status ?? 'running',
              continues: continues?.runId,
            }),
          );
        } else if (!started) {
          out(
            `${plan.kind} release ${plan.releaseName} (${plan.releaseId}) already succeeded; nothing started\nsee it with: relflow status ${plan.releaseId}`,
          );
        } else {
          const again = continues
            ? ` (run again after a run that ended ${continues.status} at ${continues.closed ?? continues.started}; what it pushed, stored and published is kept, not redone)`
            : '';
          out(
            `started ${plan.kind} release ${plan.releaseName}: ${plan.releaseId}${again}\nwatch it with: relflow status ${plan.releaseId}`,
          );
        }
      },
    );

  program
    .command('status')
    .description("print a release's stages and repositories")
    .argument('<release-id>', 'the release ID printed by `relflow start` (e.g. cloudify-3.4)')
    .option('--json', 'print the state as JSON')
    .addHelpText('after', '\nExample:\n  relflow status cloudify-nightly-20261124 --json')
    .action(async (releaseId: string, options: { json?: boolean }) => {
      const client = await connectClient();
      const state = await releaseState(client, releaseId);
      const runs = await releaseRuns(client, releaseId);
      out(options.json ? JSON.stringify({ ...state, runs }, null, 2) : `${formatRelease(state)}${formatRuns(runs)}`);
      process.exitCode = exitCodeOf(state);
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
    .action(
      async (kind: ReleaseKind, options: { config: string; version?: string; pluginsVersion?: string; date?: string; json?: boolean }) => {
        const report = await planRelease({
          kind,
          configFile: options.config,
          version: options.version,
          pluginsVersion: options.pluginsVersion,
          date: options.date,
        });
        out(options.json ? JSON.stringify(report, null, 2) : formatPlan(report));
      },
    );

  const byOption = () =>
    new Option('--by <name>', 'who decides (checked against the gate approvers)').default(process.env.USER ?? 'unknown');
  for (const [name, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} a gate of a waiting release (the release answers at once, or says why not)`)
      .argument('<release-id>', 'the release')
      .argument('<gate>', 'pypi or docs')
      .addOption(byOption())
      .option('--comment <text>', 'why, for the report')
      .addHelpText('after', `\nExample:\n  relflow ${name} cloudify-3.4 pypi --by alice`)
      .action(async (releaseId: string, gate: string, options: { by: string; comment?: string }) => {
        const state = await decideGate(
          await connectClient(),
          releaseId,
          { gate: gate as GateName, by: options.by, comment: options.comment },
          approve,
        );
        // The decision was recorded: that is success for this command, a rejection included.
        out(`gate ${state.name} of ${releaseId}: ${state.status} by ${state.by}`);
      });
  }

  for (const action of ['retry', 'skip', 'abort'] as const) {
    program
      .command(action)
      .description(`${action} the stage a blocked release waits on`)
      .argument('<release-id>', 'the blocked release')
      .option('--by <name>', 'who acts', process.env.USER ?? 'unknown')
      .option('--reason <text>', 'why, for the report')
      .addHelpText('after', `\nExample:\n  relflow ${action} cloudify-3.4 --reason "mirror is back"`)
      .action(async (releaseId: string, options: { by: string; reason?: string }) => {
        out(await operateRelease(await connectClient(), releaseId, { action, by: options.by, reason: options.reason }));
      });
  }

  program
    .command('retag')
    .description("move a release's tag to the head of its build branch and force-push it (never done implicitly)")
    .argument('<release-id>', 'the release')
    .requiredOption('--repository <name>', 'the repository whose tag moves')
    .option('--by <name>', 'who asks', process.env.USER ?? 'unknown')
    .option('--task-queue <name>', 'task queue of the release workers', defaults.taskQueue)
    .option('--force', 'move the tag even when it belongs to a release that succeeded (rewrites what it published)')
    .addHelpText('after', '\nExample:\n  relflow retag cloudify-3.4m5 --repository cloudify-manager')
    .action(async (releaseId: string, options: { repository: string; by: string; taskQueue: string; force?: boolean }) => {
      const result = await retagRelease(await connectClient(), releaseId, options.repository, options.by, options.taskQueue, options.force);
      out(
        result.created
          ? `tag ${result.tag} of ${options.repository} moved to ${result.sha}`
          : `tag ${result.tag} of ${options.repository} already at ${result.sha}`,
      );
    });

  program
    .command('cancel')
    .description('cancel a running release: builds are cancelled and their machines torn down')
    .argument('<release-id>', 'the release')
    .addHelpText('after', '\nExample:\n  relflow cancel cloudify-nightly-20261124')
    .action(async (releaseId: string) => {
      await (await connectClient()).workflow.getHandle(releaseId).cancel();
      out(`cancellation requested for ${releaseId}`);
    });

  program
    .command('list')
    .description('list releases, filtered by their search attributes; a release started again shows each run')
    .option('--kind <kind>', 'nightly, milestone, ga or patch')
    .option('--version <version>', 'release name, e.g. 3.4m5')
    .option('--status <status>', 'running, waiting, blocked, succeeded, failed, aborted, cancelled')
    .option('--product <name>', 'product')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  relflow list --kind ga --status succeeded')
    .action(async (options: { kind?: string; version?: string; status?: string; product?: string; json?: boolean }) => {
      const releases = await listReleases(await connectClient(), options);
      if (options.json) out(JSON.stringify(releases, null, 2));
      else
        out(
          releases.length === 0
            ? 'no releases'
            : releases
                .map(
                  (release) =>
                    `${release.releaseId}  ${release.kind}  ${release.version}  ${release.status}  ${release.stage}  ${release.started}  run ${release.runId}`,
                )
                .join('\n'),
        );
    });

  program
    .command('watch')
    .description('follow a release live until it ends or waits at a gate')
    .argument('<release-id>', 'the release')
    .option('--interval <ms>', 'refresh interval', parsePositive, 1000)
    .option('--json', 'print each state as one line of JSON')
    .addHelpText('after', '\nExample:\n  relflow watch cloudify-3.4')
    .action(async (releaseId: string, options: { interval: number; json?: boolean }) => {
      const client = await connectClient();
      for (;;) {
        const state = await releaseState(client, releaseId);
        if (options.json) out(JSON.stringify(state));
        else {
          if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          out(formatRelease(state));
        }
        const ended = !['running'].includes(state.status);
        if (ended) {
          process.exitCode = exitCodeOf(state);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, options.interval));
      }
    });

  program
    .command('report')
    .description('the release as Markdown: stages, repositories with SHAs and tags, artifacts with URLs and sha256, results, decisions')
    .argument('<release-id>', 'the release')
    .option('-o, --output <file>', 'write to a file')
    .addOption(new Option('--format <format>', 'markdown, html or json').choices(['markdown', 'html', 'json']).default('markdown'))
    .addHelpText(
      'after',
      '\nExamples:\n  relflow report cloudify-3.4 -o release-3.4.md\n  relflow report cloudify-3.4 --format html -o release-3.4.html',
    )
    .action(async (releaseId: string, options: { output?: string; format: 'markdown' | 'html' | 'json' }) => {
      const state = await releaseState(await connectClient(), releaseId);
      const report =
        options.format === 'html' ? htmlReport(state) : options.format === 'json' ? JSON.stringify(state, null, 2) : markdownReport(state);
      if (options.output) writeFileSync(options.output, report);
      else out(report);
    });

  program
    .command('reap')
    .description('terminate the EC2 build machines whose release no longer runs (what a terminated release leaves behind)')
    .addOption(configOption())
    .option('--dry-run', 'list what would be terminated; terminate nothing')
    .option('--grace <duration>', 'keep machines launched less than this long ago, whatever their release', parseDuration, '15m')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  relflow reap -c relflow.yaml --dry-run\n  relflow schedule create reap --cron "*/30 * * * *" -c relflow.yaml   # every 30 minutes',
    )
    .action(async (options: { config: string; dryRun?: boolean; grace: string; json?: boolean }) => {
      const manifest = loadManifest(options.config);
      const settings = temporalSettings();
      const client = await connectClient(settings);
      const installation = installationOf(settings.namespace, manifest);
      const result = await reapBuildMachines(manifest.ec2, process.env, (releaseId) => isReleaseRunning(client, releaseId), {
        installation,
        graceMs: durationMs(options.grace),
        dryRun: options.dryRun,
      });
      if (options.json) return out(JSON.stringify(result, null, 2));
      const line = (machine: BuildMachine) =>
        `  ${machine.instanceId}  ${machine.releaseId || '(no release)'}  ${machine.artifact}  launched ${machine.launched ?? '-'}`;
      out(
        [
          `${options.dryRun ? 'would terminate' : 'terminated'} ${result.terminated.length} machine(s)${result.terminated.length ? ':' : ''}`,
          ...result.terminated.map(line),
          `kept ${result.kept.length} machine(s) of running releases or launched within ${options.grace}${result.kept.length ? ':' : ''}`,
          ...result.kept.map(line),
          `left alone ${result.others.length} machine(s) of other installations than ${installation}${result.others.length ? ':' : ''}`,
          ...result.others.map((machine) => `${line(machine)}  installation ${machine.installation || '(none)'}`),
        ].join('\n'),
      );
    });

  const schedule = program
    .command('schedule')
    .description('Temporal Schedules: the nightly, and the build machine reaper (overlapping runs are skipped)');
  schedule
    .command('create')
    .argument('<what>', 'nightly (start the nightly release) or reap (terminate build machines of releases that no longer run)')
    .requiredOption('--cron <expression>', 'when, e.g. "0 2 * * *"')
    .addOption(configOption())
    .option('--id <schedule-id>', 'schedule ID (default: <product>-nightly or <product>-reap)')
    .option('--timezone <tz>', 'time zone of the cron expression', 'UTC')
    .option('--grace <duration>', 'reap: keep machines launched less than this long ago', parseDuration, '15m')
    .option('--task-queue <name>', 'task queue of the release workers', defaults.taskQueue)
    .addHelpText(
      'after',
      '\nExamples:\n  relflow schedule create nightly --cron "0 2 * * *" -c relflow.yaml\n  relflow schedule create reap --cron "*/30 * * * *" -c relflow.yaml',
    )
    .action(
      async (what: string, options: { cron: string; config: string; id?: string; timezone: string; taskQueue: string; grace: string }) => {
        if (what !== 'nightly' && what !== 'reap')
          throw new UserError(
            `schedule create: expected nightly or reap, got '${what}' (milestone, GA and patch releases are started by hand)`,
          );
        const manifest = loadManifest(options.config);
        const scheduleId = options.id ?? `${manifest.product}-${what}`;
        const settings = {
          scheduleId,
          cron: options.cron,
          configFile: options.config,
          timezone: options.timezone,
          taskQueue: options.taskQueue,
          grace: options.grace,
        };
        const client = await connectClient();
        await (what === 'nightly' ? createNightlySchedule(client, settings) : createReapSchedule(client, settings));
        out(`schedule ${scheduleId} created: ${what} at "${options.cron}" (${options.timezone})`);
      },
    );
  schedule
    .command('list')
    .description('list the schedules with their next and last run')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  relflow schedule list --json')
    .action(async (options: { json?: boolean }) => {
      const schedules = await listSchedules(await connectClient());
      out(
        options.json
          ? JSON.stringify(schedules, null, 2)
          : schedules
              .map(
                (entry) =>
                  `${entry.scheduleId}  ${entry.paused ? 'paused' : 'active'}  next ${entry.nextRun ?? '-'}  last ${entry.recent ?? '-'}`,
              )
              .join('\n') || 'no schedules',
      );
    });
  schedule
    .command('describe')
    .description('a schedule as JSON: state, spec, next runs and recent releases')
    .argument('<schedule-id>')
    .addHelpText('after', '\nExample:\n  relflow schedule describe cloudify-nightly')
    .action(async (scheduleId: string) => {
      const description = await describeSchedule(await connectClient(), scheduleId);
      out(
        JSON.stringify(
          {
            scheduleId,
            paused: description.state.paused,
            note: description.state.note,
            spec: description.spec,
            nextRuns: description.info.nextActionTimes,
            recent: description.info.recentActions.map((action) => action.action.workflow.workflowId),
          },
          null,
          2,
        ),
      );
    });
  const scheduleActions = {
    pause: ['stop starting runs until unpaused', ' --note "release freeze"'],
    unpause: ['start runs again', ''],
    trigger: ['start a run now (skipped while one still runs)', ''],
    delete: ['delete the schedule (runs it started go on)', ''],
  } as const;
  for (const [action, [description, example]] of Object.entries(scheduleActions)) {
    schedule
      .command(action)
      .description(description)
      .argument('<schedule-id>')
      .option('--note <text>', 'why (pause, unpause)')
      .addHelpText('after', `\nExample:\n  relflow schedule ${action} cloudify-nightly${example}`)
      .action(async (scheduleId: string, options: { note?: string }) => {
        await scheduleAction(await connectClient(), scheduleId, action as keyof typeof scheduleActions, options.note);
        out(`schedule ${scheduleId}: ${action} done`);
      });
  }

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
    .addHelpText(
      'after',
      '\nExample:\n  relflow schema -o relflow.schema.json   # then: # yaml-language-server: $schema=relflow.schema.json',
    )
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
