import { parsePositive, workerDefaults } from '../options';
import type { Command } from 'commander';
import type { WorkerCommandOptions } from '../actions/worker';

/** worker: the command of the CLI. */
export function registerWorkerCommand(program: Command): void {
  const defaults = workerDefaults();
  program
    .command('worker')
    .description('run a worker against the Temporal server at TEMPORAL_ADDRESS')
    .option('--task-queue <name>', 'task queue to poll (RELFLOW_TASK_QUEUE)', defaults.taskQueue)
    .option('--workspace <dir>', 'persistent workspace for git mirrors and builds (RELFLOW_WORKSPACE)', defaults.workspace)
    .option('--max-activities <n>', 'activities run at once (RELFLOW_MAX_ACTIVITIES)', parsePositive, defaults.maxActivities)
    .option(
      '--write-bundle <file>',
      'write the workflow bundle to this file and exit; workers started with RELFLOW_WORKFLOW_BUNDLE=<file> load it instead of bundling',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  TEMPORAL_ADDRESS=temporal.internal:7233 relflow worker --max-activities 8\n  relflow worker --write-bundle /opt/relflow/workflows.js   # once, e.g. when the image is built',
    )
    .action(async (options: WorkerCommandOptions & { writeBundle?: string }) =>
      options.writeBundle
        ? (await import('../actions/worker.js')).writeBundleCommand(options.writeBundle)
        : (await import('../actions/worker.js')).workerCommand(options),
    );
}
