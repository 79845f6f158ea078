import { configOption, manifestOptions, parseCron, parseDuration, parseTimeZone, workerDefaults } from '../options';
import type { Command } from 'commander';
import type { ScheduleCreateOptions } from '../actions/schedule';
import type { ScheduleVerb } from '../schedules';

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
    .action(async (what: string, options: ScheduleCreateOptions) =>
      (await import('../actions/schedule.js')).scheduleCreateAction(what, options),
    );

  schedule
    .command('list')
    .description('list the schedules with their next and last run')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  relflow schedule list --json')
    .action(async (options: { json?: boolean }) => (await import('../actions/schedule.js')).scheduleListAction(options));

  schedule
    .command('describe')
    .description('a schedule as JSON: state, spec, next runs and recent releases')
    .argument('<schedule-id>')
    .addHelpText('after', '\nExample:\n  relflow schedule describe cloudify-nightly')
    .action(async (scheduleId: string) => (await import('../actions/schedule.js')).scheduleDescribeAction(scheduleId));

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
      .action(async (scheduleId: string, options: { note?: string }) =>
        (await import('../actions/schedule.js')).scheduleVerbAction(scheduleId, action as ScheduleVerb, options),
      );
  }
}
