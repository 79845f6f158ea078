import { bundleWorkflowCode, NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { createActivities } from '../activities';
import { BUILD_TASK_QUEUE, RELEASE_TASK_QUEUE } from '../config/taskQueues';

export interface WorkerSettings {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  workspaceDir: string;
  /** The Python with build and twine (the tools environment, or RELFLOW_PYTHON). */
  pythonBin?: string;
  /**
   * A prebuilt workflow bundle (tests build it once); else the file named by
   * RELFLOW_WORKFLOW_BUNDLE (written by `bundleWorkflowCode`, so several
   * worker processes skip bundling); else bundled from src/workflows.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  env?: NodeJS.ProcessEnv;
  /**
   * This worker's Worker Deployment version (src/worker/versioning.ts): with one, each workflow runs on the
   * build that started it (pinned) while newer builds take new releases; without, the worker is unversioned.
   */
  version?: WorkerDeploymentVersion;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/** The payload converter of the workflows and the worker: decoding a signal or update argument never throws. */
export function payloadConverterPath(): string {
  return require.resolve('../workflows/payloadConverter');
}

/**
 * A worker: the workflows and every activity, on one task queue. The release
 * queue and the build queue run the same worker code; build capacity grows by
 * starting more workers on the build queue.
 */
export async function createReleaseWorker(settings: WorkerSettings): Promise<Worker> {
  const env = settings.env ?? process.env;
  return Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue ?? RELEASE_TASK_QUEUE,
    ...(settings.workflowBundle
      ? { workflowBundle: settings.workflowBundle }
      : env.RELFLOW_WORKFLOW_BUNDLE
        ? { workflowBundle: { codePath: env.RELFLOW_WORKFLOW_BUNDLE } }
        : { workflowsPath: workflowsPath() }),
    dataConverter: { payloadConverterPath: payloadConverterPath() },
    activities: createActivities({ workspaceDir: settings.workspaceDir, pythonBin: settings.pythonBin ?? env.RELFLOW_PYTHON, env }),
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivityTaskExecutions ?? 16,
    // Pinned by default; each workflow type says its own behaviour (src/workflows/index.ts).
    ...(settings.version
      ? { workerDeploymentOptions: { useWorkerVersioning: true, version: settings.version, defaultVersioningBehavior: 'PINNED' } }
      : {}),
  });
}

export interface RunningWorkers {
  taskQueues: string[];
  stop(): Promise<void>;
}

/** Release and build workers in this process, sharing one workflow bundle. */
export async function startWorkers(
  settings: Omit<WorkerSettings, 'taskQueue'>,
  taskQueues = [RELEASE_TASK_QUEUE, BUILD_TASK_QUEUE],
): Promise<RunningWorkers> {
  const workflowBundle =
    settings.workflowBundle ??
    (await bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      payloadConverterPath: payloadConverterPath(),
      logger: quietBundlerLogger,
    }));
  const workers = await Promise.all(taskQueues.map((taskQueue) => createReleaseWorker({ ...settings, taskQueue, workflowBundle })));
  const running = workers.map((worker) => worker.run());
  return {
    taskQueues,
    stop: async () => {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(running);
    },
  };
}

const ignore = () => undefined;
const quietBundlerLogger = {
  trace: ignore,
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: (message: string) => void process.stderr.write(`${message}\n`),
  log: ignore,
};
