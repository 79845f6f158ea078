import { RELEASE_KINDS, ReleaseKind } from '../../release/version';
import { configOption, manifestOptions, parseKind, parseNightlyDate, workerDefaults } from '../options';
import type { StartCommandOptions } from '../actions/start';
import type { Command } from 'commander';

/** start: the command of the CLI. */
export function registerStartCommand(program: Command): void {
  const defaults = workerDefaults();
  program
    .command('start')
    .description('start a release')
    .argument('<kind>', `release kind: ${RELEASE_KINDS.join(', ')}`, parseKind)
    .addOption(configOption())
    .addOption(manifestOptions()[0])
    .addOption(manifestOptions()[1])
    .option(
      '-v, --version <version>',
      'release version: 3.4 (ga), 3.4m5 (milestone), 3.4.2 or 3.4.2m1 (patch); nightlies default to versions.core',
    )
    .option('--plugins-version <version>', 'plugins version stream (default: versions.plugins of the manifest)')
    .option('--date <yyyymmdd>', 'date of a nightly, up to ten years back (default: today, UTC)', (value: string) =>
      parseNightlyDate(value),
    )
    .option('--task-queue <name>', 'task queue of the release workers (RELFLOW_TASK_QUEUE)', defaults.taskQueue)
    .option('--build-task-queue <name>', 'task queue of the build workers (RELFLOW_BUILD_TASK_QUEUE)', defaults.buildTaskQueue)
    .option('--json', 'print the started release as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  relflow start nightly -c relflow.yaml\n  relflow start milestone --version 3.4m5 -c relflow.yaml\n  relflow start ga --version 3.4 --manifest cloudify.yaml   # from the trusted manifest source',
    )
    .action(async (kind: ReleaseKind, options: StartCommandOptions) => (await import('../actions/start.js')).startAction(kind, options));
}
