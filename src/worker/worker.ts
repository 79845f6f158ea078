import { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { join } from 'node:path';
import { createActivities } from '../activities';
import { projectRoot } from './tools';

export const RELEASE_TASK_QUEUE = 'relflow';
export const BUILD_TASK_QUEUE = 'relflow-builds';

export interface WorkerSettings {
  connection: NativeConnection;
  namespace: string;
  taskQueue?: string;
  workspaceDir: string;
  /** A prebuilt workflow bundle (tests build it once); bundled from src/workflows when absent. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  maxConcurrentActivityTaskExecutions?: number;
  env?: NodeJS.ProcessEnv;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/** A worker for the release task queue: the workflows and every activity. */
export async function createReleaseWorker(settings: WorkerSettings): Promise<Worker> {
  return Worker.create({
    connection: settings.connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue ?? RELEASE_TASK_QUEUE,
    ...(settings.workflowBundle ? { workflowBundle: settings.workflowBundle } : { workflowsPath: workflowsPath() }),
    activities: createActivities({ workspaceDir: settings.workspaceDir, env: settings.env }),
    maxConcurrentActivityTaskExecutions: settings.maxConcurrentActivityTaskExecutions ?? 16,
  });
}

export function defaultWorkspaceDir(): string {
  return process.env.RELFLOW_WORKSPACE ?? join(projectRoot, '.relflow', 'workspace');
}
