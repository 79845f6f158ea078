import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeConnection } from '@temporalio/worker';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { projectRoot } from './tools';

/** The Worker Deployment every relflow worker of an installation belongs to, unless RELFLOW_DEPLOYMENT names another. */
export const DEFAULT_DEPLOYMENT = 'relflow';

/**
 * This worker's version: RELFLOW_DEPLOYMENT (default relflow) and RELFLOW_BUILD_ID (default the package
 * version and the first 12 hex of the workflow bundle's sha256: workers that run the same workflow code
 * have the same build, a changed workflow is a new build). Undefined with RELFLOW_WORKER_VERSIONING=0.
 */
export function workerVersion(env: NodeJS.ProcessEnv, bundleCode: string): WorkerDeploymentVersion | undefined {
  if (env.RELFLOW_WORKER_VERSIONING === '0') return undefined;
  const packageVersion = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const buildId = env.RELFLOW_BUILD_ID || `${packageVersion}-${createHash('sha256').update(bundleCode).digest('hex').slice(0, 12)}`;
  return { deploymentName: env.RELFLOW_DEPLOYMENT || DEFAULT_DEPLOYMENT, buildId };
}

type WorkflowService = NativeConnection['workflowService'];

/** The build ID new workflows of the deployment start on, or undefined when it has none yet (or does not exist). */
export async function currentBuildId(service: WorkflowService, namespace: string, deploymentName: string): Promise<string | undefined> {
  try {
    const { workerDeploymentInfo } = await service.describeWorkerDeployment({ namespace, deploymentName });
    return workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || undefined;
  } catch (error) {
    if (/not found|no worker deployment found/i.test((error as Error).message)) return undefined;
    throw error;
  }
}

/**
 * Makes this version the deployment's current one: new releases start on it, releases
 * pinned to another version finish there. The server knows a version once one of its
 * workers polled, so this waits up to a minute for that.
 */
export async function setCurrentVersion(
  service: WorkflowService,
  namespace: string,
  version: WorkerDeploymentVersion,
  identity: string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: version.deploymentName,
        buildId: version.buildId,
        identity,
      });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
