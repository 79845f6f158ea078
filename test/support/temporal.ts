import type { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker, WorkerOptions } from '@temporalio/worker';
import { tempDir } from './tempDirs';
import { createActivities } from '../../src/activities';
import { ensureTools } from '../../src/worker/tools';
import { devServerDynamicConfigArgs, freePort } from '../../src/dev/temporalServer';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/searchAttributes';
import { payloadConverterPath, workflowsPath } from '../../src/worker/worker';

/**
 * One real Temporal dev server for the whole test run: @temporalio/testing's
 * local environment on the bootstrapped Temporal CLI (never its download).
 */
interface Shared {
  environment: TestWorkflowEnvironment;
  server: TestServer;
  client: Client;
  connection: NativeConnection;
  bundle?: WorkerOptions['workflowBundle'];
}

/** Where the test server listens: its frontend and its Web UI. */
export interface TestServer {
  address: string;
  uiUrl: string;
}

let shared: Shared | undefined;

export async function startTestServer(): Promise<void> {
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  const tools = ensureTools();
  let environment: TestWorkflowEnvironment | undefined;
  // The dev server also binds a few ports next to its frontend port: on a collision, try other ports.
  for (let attempt = 1; !environment; attempt += 1) {
    const port = await freePort();
    try {
      environment = await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: tools.temporalCli },
          ip: '127.0.0.1',
          port,
          ui: true,
          uiPort: port + 1000,
          searchAttributes: SEARCH_ATTRIBUTES,
          log: { format: 'pretty', level: 'error' },
          extraArgs: devServerDynamicConfigArgs(),
        },
      });
      shared = {
        environment,
        server: { address: `127.0.0.1:${port}`, uiUrl: `http://127.0.0.1:${port + 1000}` },
        client: environment.client,
        connection: environment.nativeConnection,
      };
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

export async function stopTestServer(): Promise<void> {
  if (!shared) return;
  const { environment } = shared;
  shared = undefined;
  await environment.teardown();
}

function current(): Shared {
  if (!shared) throw new Error('the test Temporal server is not running (test/hooks.ts starts it)');
  return shared;
}

/** The Temporal Web UI of the test server. */
export function testUiUrl(): string {
  return current().server.uiUrl;
}

export function testServer(): TestServer {
  return current().server;
}

export function testClient(): Client {
  return current().client;
}

export async function workflowBundle(): Promise<WorkerOptions['workflowBundle']> {
  const state = current();
  state.bundle ??= await bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    payloadConverterPath: payloadConverterPath(),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
  });
  return state.bundle;
}

let queueCounter = 0;
export function uniqueTaskQueue(prefix = 'test'): string {
  queueCounter += 1;
  return `${prefix}-${process.pid}-${queueCounter}-${Date.now()}`;
}

export { removeTempDirs, tempDir } from './tempDirs';

export interface TestWorkerOptions {
  taskQueue: string;
  workspaceDir?: string;
  activities?: object;
  env?: NodeJS.ProcessEnv;
  pythonBin?: string;
}

/** A worker with the real activities (or the given ones) on a task queue of the test's own. */
export async function createTestWorker(options: TestWorkerOptions): Promise<Worker> {
  const state = current();
  return Worker.create({
    connection: state.connection,
    namespace: 'default',
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    dataConverter: { payloadConverterPath: payloadConverterPath() },
    activities:
      options.activities ??
      createActivities({ workspaceDir: options.workspaceDir ?? tempDir('workspace'), env: options.env, pythonBin: options.pythonBin }),
  });
}

/** Release and build workers (same bundle) on a test's own task queues, while `fn` runs. */
export async function withWorkers<T>(options: TestWorkerOptions, fn: () => Promise<T>): Promise<T> {
  const release = await createTestWorker(options);
  const builds = await createTestWorker({ ...options, taskQueue: `${options.taskQueue}-builds` });
  return builds.runUntil(release.runUntil(fn));
}

/** Polls `probe` every 200 ms until it gives a value (about a minute at most); `what` names it in the timeout. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}
