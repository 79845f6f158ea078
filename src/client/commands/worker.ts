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
      '--set-current',
      "make this worker's build the deployment's current version: new releases start on it, running ones finish on their own build",
    )
    .option(
      '--write-bundle <file>',
      'write the workflow bundle to this file and exit; workers started with RELFLOW_WORKFLOW_BUNDLE=<file> load it instead of bundling',
    )
    .addHelpText(
      'after',
      "\nWorker Versioning: each worker is a build (RELFLOW_BUILD_ID, default the package version and the workflow code's hash) of a\nWorker Deployment (RELFLOW_DEPLOYMENT, default relflow); a release runs to its end on the build that started it.\nThe first build is made current by itself; later ones with --set-current (docs/production.md). RELFLOW_WORKER_VERSIONING=0: unversioned.\n\nExamples:\n  TEMPORAL_ADDRESS=temporal.internal:7233 relflow worker --max-activities 8\n  relflow worker --write-bundle /opt/relflow/workflows.js   # once, e.g. when the image is built",
    )
    .action(async (options: WorkerCommandOptions & { writeBundle?: string }) =>
      options.writeBundle
        ? (await import('../actions/worker.js')).writeBundleCommand(options.writeBundle)
        : (await import('../actions/worker.js')).workerCommand(options),
    );
}
