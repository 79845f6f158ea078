import { loadManifest } from '../../config/loadManifest';
import { UserError } from '../../config/errors';
import { connectClient } from '../connection';
import { workerDefaults } from './worker';
import { createNightlySchedule, createReapSchedule, describeSchedule, listSchedules, scheduleAction } from '../schedules';
import { loadManifestByReference } from '../../activities/manifestSource';
import { configOption, manifestOptions, out, parseCron, parseDuration, parseTimeZone } from '../options';
import type { Command } from 'commander';

/** schedule: the commands of the CLI. */
export function registerScheduleCommands(program: Command): void {
  const defaults = workerDefaults();
  const schedule = program
    .command('schedule')
    .description('Temporal Schedules: the nightly, and the build machine reaper (overlapping runs are skipped)');

  schedule
    .command('create')
    .argument('<what>', 'nightly (start the nightly release) or reap (terminate build machines of releases that no longer run)')
    .requiredOption('--cron <expression>', 'when, e.g. "0 2 * * *"', parseCron)
    .addOption(configOption())
    .addOption(manifestOptions()[0])
    .addOption(manifestOptions()[1])
    .option('--id <schedule-id>', 'schedule ID (default: <product>-nightly or <product>-reap)')
    .option('--timezone <tz>', 'time zone of the cron expression', parseTimeZone, 'UTC')
    .option('--grace <duration>', 'reap: keep machines launched less than this long ago', parseDuration, '15m')
    .option('--task-queue <name>', 'task queue of the release workers', defaults.taskQueue)
    .addHelpText(
      'after',
      '\nExamples:\n  relflow schedule create nightly --cron "0 2 * * *" -c relflow.yaml\n  relflow schedule create reap --cron "*/30 * * * *" -c relflow.yaml',
    )
    .action(
      async (
        what: string,
        options: {
          cron: string;
          config: string;
          manifest?: string;
          manifestRef?: string;
          id?: string;
          timezone: string;
          taskQueue: string;
          grace: string;
        },
      ) => {
        if (what !== 'nightly' && what !== 'reap')
          throw new UserError(
            `schedule create: expected nightly or reap, got '${what}' (milestone, GA and patch releases are started by hand)`,
          );
        if (options.manifest && what === 'reap') throw new UserError('schedule create reap: reads -c FILE (--manifest is for nightly)');
        const manifest = options.manifest
          ? (await loadManifestByReference(process.env, { name: options.manifest, ref: options.manifestRef })).manifest
          : loadManifest(options.config);
        const scheduleId = options.id ?? `${manifest.product}-${what}`;
        const settings = {
          scheduleId,
          cron: options.cron,
          configFile: options.config,
          manifestName: options.manifest,
          manifestRef: options.manifestRef,
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
}
