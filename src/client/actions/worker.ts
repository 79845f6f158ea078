import { UserError } from '../../config/errors';
import { installMetricsRuntime } from '../../worker/metrics';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode, type NativeConnection } from '@temporalio/worker';
import type { WorkerDeploymentVersion } from '@temporalio/common';
import { currentBuildId, setCurrentVersion, workerVersion } from '../../worker/versioning';
import { createReleaseWorker, payloadConverterPath, workflowsPath } from '../../worker/worker';
import { out } from '../options';
import { workerSecrets } from '../../activities/secrets';
import { nodeRuntimeNotice } from '../../worker/nodeRuntime';
import { workerPython } from '../../worker/tools';
import { connectWorker, temporalSettings } from '../connection';
import { requireSearchAttributes } from '../searchAttributeCheck';

export interface WorkerCommandOptions {
  taskQueue: string;
  workspace: string;
  maxActivities: number;
  /** Make this worker's build the deployment's current version (new releases start on it). */
  setCurrent?: boolean;
}

const bundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error: (message: string) => process.stderr.write(`${message}\n`),
} as never;

/** The workflow code this worker runs: the file RELFLOW_WORKFLOW_BUNDLE names, else bundled now. */
async function workflowCode(env: NodeJS.ProcessEnv): Promise<string> {
  if (env.RELFLOW_WORKFLOW_BUNDLE) return readFileSync(env.RELFLOW_WORKFLOW_BUNDLE, 'utf8');
  return (await bundleWorkflowCode({ workflowsPath: workflowsPath(), payloadConverterPath: payloadConverterPath(), logger: bundlerLogger }))
    .code;
}

/** Writes the workflow bundle a worker would build at start (RELFLOW_WORKFLOW_BUNDLE then names it). */
export async function writeBundleCommand(file: string): Promise<void> {
  const target = resolve(file);
  if (!existsSync(dirname(target))) throw new UserError(`--write-bundle ${file}: the directory ${dirname(target)} does not exist`);
  const { code } = await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    payloadConverterPath: payloadConverterPath(),
    logger: bundlerLogger,
  });
  const partial = `${target}.${process.pid}.tmp`;
  writeFileSync(partial, code);
  renameSync(partial, target);
  out(
    `workflow bundle written to ${target} (${(code.length / 1024).toFixed(0)} KiB): start workers with RELFLOW_WORKFLOW_BUNDLE=${target}`,
  );
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
  const unreadable = secrets.fileSourceProblems();
  if (unreadable.length) {
    await connection.close();
    throw new UserError(`the worker's secrets file names sources it cannot read: ${unreadable.join('; ')}`);
  }
  process.stdout.write(
    process.env.RELFLOW_SECRETS
      ? `[relflow worker] secrets file ${process.env.RELFLOW_SECRETS}: ${secrets.names.length} secrets (${secrets.names.join(', ')})\n`
      : `[relflow worker] warning: no secrets file (RELFLOW_SECRETS): this worker sends no secret anywhere; releases that need a token, key or password are refused at preflight\n`,
  );
  const code = await workflowCode(process.env);
  const version = workerVersion(process.env, code);
  const worker = await createReleaseWorker({
    connection,
    namespace: settings.namespace,
    taskQueue: options.taskQueue,
    workspaceDir: options.workspace,
    pythonBin: python.python,
    maxConcurrentActivityTaskExecutions: options.maxActivities,
    workflowBundle: { code },
    version,
  });
  process.stdout.write(`[relflow worker] polling '${options.taskQueue}' on ${settings.address} (namespace ${settings.namespace})\n`);
  const running = worker.run();
  if (version) await announceVersion(connection, settings.namespace, version, options.setCurrent === true);
  else
    process.stdout.write(
      '[relflow worker] unversioned (RELFLOW_WORKER_VERSIONING=0): a deploy replaces the workflow code of running releases\n',
    );
  await running;
  await connection.close();
}

/** Says which build this worker is and whether new releases start on it; makes it current when asked, or when none is. */
async function announceVersion(
  connection: NativeConnection,
  namespace: string,
  version: WorkerDeploymentVersion,
  setCurrent: boolean,
): Promise<void> {
  const name = `deployment ${version.deploymentName}, build ${version.buildId}`;
  try {
    const current = await currentBuildId(connection.workflowService, namespace, version.deploymentName);
    if (setCurrent || !current) {
      if (current !== version.buildId)
        await setCurrentVersion(connection.workflowService, namespace, version, `relflow worker ${process.pid}`);
      process.stdout.write(
        `[relflow worker] ${name}: current, new releases start on it${current && current !== version.buildId ? ` (was ${current})` : ''}\n`,
      );
    } else if (current === version.buildId) {
      process.stdout.write(`[relflow worker] ${name}: current\n`);
    } else {
      process.stdout.write(
        `[relflow worker] ${name}: not current (new releases start on ${current}; releases pinned to this build finish here). ` +
          `Make it current: relflow worker --set-current, or temporal worker deployment set-current-version --deployment-name ${version.deploymentName} --build-id ${version.buildId}\n`,
      );
    }
  } catch (error) {
    process.stdout.write(
      `[relflow worker] warning: ${name}: cannot read or set the deployment's current version: ${(error as Error).message.split('\n')[0]}\n`,
    );
  }
}
