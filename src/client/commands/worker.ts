import { installMetricsRuntime } from '../../worker/metrics';
import { parsePositive } from '../options';
import type { Command } from 'commander';
import { BUILD_TASK_QUEUE, createReleaseWorker, defaultWorkspaceDir, RELEASE_TASK_QUEUE } from '../../worker/worker';
import { workerSecrets } from '../../activities/secrets';
import { nodeRuntimeNotice } from '../../worker/nodeRuntime';
import { workerPython } from '../../worker/tools';
import { connectWorker, temporalSettings } from '../connection';
import { requireSearchAttributes } from '../searchAttributeCheck';

export interface WorkerCommandOptions {
  taskQueue: string;
  workspace: string;
  maxActivities: number;
}

/** A worker alone, for a Temporal server that runs elsewhere. Stops on SIGINT/SIGTERM. */
export async function workerCommand(options: WorkerCommandOptions): Promise<void> {
  const metrics = installMetricsRuntime(process.env);
  if (metrics) process.stdout.write(`[relflow worker] Prometheus metrics on http://${metrics}/metrics\n`);
  const settings = temporalSettings();
  const connection = await connectWorker(settings);
  await requireSearchAttributes(connection.operatorService, settings.namespace).catch(async (error: unknown) => {
    await connection.close();
    throw error;
  });
  const runtime = nodeRuntimeNotice();
  process.stdout.write(`[relflow worker] ${runtime.line}\n`);
  if (runtime.warning) process.stdout.write(`[relflow worker] warning: ${runtime.warning}\n`);
  const python = workerPython();
  process.stdout.write(
    !python.problem
      ? `[relflow worker] Python: ${python.python} (from ${python.source}): ${python.versions}\n`
      : `[relflow worker] warning: Python ${python.python} (from ${python.source}) ${python.problem}: PyPI publishing will fail; set RELFLOW_PYTHON to a Python with build and twine, or run npm run bootstrap\n`,
  );
  const secrets = workerSecrets(process.env);
  process.stdout.write(
    process.env.RELFLOW_SECRETS
      ? `[relflow worker] secrets file ${process.env.RELFLOW_SECRETS}: ${secrets.names.length} secrets (${secrets.names.join(', ')})\n`
      : `[relflow worker] warning: no secrets file (RELFLOW_SECRETS): this worker sends no secret anywhere; releases that need a token, key or password are refused at preflight\n`,
  );
  const worker = await createReleaseWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: options.taskQueue,
    workspaceDir: options.workspace,
    pythonBin: python.python,
    maxConcurrentActivityTaskExecutions: options.maxActivities,
  });
  process.stdout.write(`[relflow worker] polling '${options.taskQueue}' on ${settings.address} (namespace ${settings.namespace})\n`);
  await worker.run();
  await connection.close();
}

export const workerDefaults = () => ({
  taskQueue: process.env.RELFLOW_TASK_QUEUE ?? RELEASE_TASK_QUEUE,
  /** Where releases started from this environment run their builds. */
  buildTaskQueue: process.env.RELFLOW_BUILD_TASK_QUEUE ?? BUILD_TASK_QUEUE,
  workspace: defaultWorkspaceDir(),
  maxActivities: Number(process.env.RELFLOW_MAX_ACTIVITIES ?? 16),
});

/** worker: the command of the CLI. */
export function registerWorkerCommand(program: Command): void {
  const defaults = workerDefaults();
  program
    .command('worker')
    .description('run a worker against the Temporal server at TEMPORAL_ADDRESS')
    .option('--task-queue <name>', 'task queue to poll (RELFLOW_TASK_QUEUE)', defaults.taskQueue)
    .option('--workspace <dir>', 'persistent workspace for git mirrors and builds (RELFLOW_WORKSPACE)', defaults.workspace)
    .option('--max-activities <n>', 'activities run at once (RELFLOW_MAX_ACTIVITIES)', parsePositive, defaults.maxActivities)
    .addHelpText('after', '\nExample:\n  TEMPORAL_ADDRESS=temporal.internal:7233 relflow worker --max-activities 8')
    .action(async (options: { taskQueue: string; workspace: string; maxActivities: number }) => workerCommand(options));
}
