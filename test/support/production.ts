import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { RELFLOW_BIN } from './cli';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { freePort } from '../../src/dev/temporalServer';
import { payloadConverterPath, workflowsPath } from '../../src/worker/worker';
import { createPostgresCluster, PostgresCluster } from './postgres';
import { createTemporalSchema, prepareNamespace, ProductionServer, productionTools, startProductionServer } from './productionServer';
import type { SystemServer } from './systemServer';
import { localCommand, serviceUnit } from './systemdUnit';
import { tempDir } from './temporal';

let topologies = 0;

/** The settings of a unit that name this host's addresses, paths, queues and trust: the harness gives its own. */
const HOST_SETTINGS =
  /^(TEMPORAL_.*|RELFLOW_(WORKSPACE|TASK_QUEUE|BUILD_TASK_QUEUE|WORKFLOW_BUNDLE|METRICS_ADDRESS|SECRETS|MANIFEST_DIR|LOCAL_ROOTS|INLINE_MANIFESTS))$/;

/** One relflow worker process (`relflow worker`) with a workspace of its own, as on a host of its own. */
export interface WorkerProcess {
  name: string;
  taskQueue: string;
  workspace: string;
  log: string;
  process?: ChildProcess;
  /** How many times this worker was started. */
  starts: number;
  /** Settings of its own on top of the topology's (another build's bundle), and arguments after its unit's command. */
  env?: NodeJS.ProcessEnv;
  args?: string[];
}

export interface ProductionTopologyOptions {
  taskQueue: string;
  buildTaskQueue: string;
  /** Workers on the release queue and on the build queue (2 and 2 by default). */
  releaseWorkers?: number;
  buildWorkers?: number;
  /** Variables every worker gets on top of this process's (secrets, endpoints). */
  env?: NodeJS.ProcessEnv;
  namespace?: string;
  /** The system layer's shared server (TLS, a namespace per topology); without it the topology boots PostgreSQL and a server of its own. */
  shared?: SystemServer;
}

export interface ProductionTopology {
  root: string;
  address: string;
  namespace: string;
  postgres: PostgresCluster;
  server: ProductionServer;
  client: Client;
  /** What a relflow process needs to reach this topology: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_* on the shared server. */
  clientEnv: NodeJS.ProcessEnv;
  workers: WorkerProcess[];
  startWorker(worker: WorkerProcess): Promise<void>;
  /** Starts one more worker of a kind (as a deploy starts the next build's workers); it polls when this returns. */
  addWorker(kind: 'release' | 'build', options: { env?: NodeJS.ProcessEnv; args?: string[] }): Promise<WorkerProcess>;
  killWorker(worker: WorkerProcess): void;
  /** Every worker log, for a failure message or a search for secrets. */
  workerLogs(): string;
  stop(): Promise<void>;
}

/**
 * The production topology of docker-compose.yml on this machine, without
 * Docker: PostgreSQL and the Temporal server on it (its own, or the
 * system layer's shared one), a namespace with relflow's search attributes,
 * and relflow workers as separate processes, started from their systemd units.
 */
export async function startProductionTopology(options: ProductionTopologyOptions): Promise<ProductionTopology> {
  const root = tempDir('production');
  const shared = options.shared;
  const namespace = options.namespace ?? (shared ? `topology-${(topologies += 1)}` : 'default');
  const postgres = shared?.postgres ?? createPostgresCluster(await freePort());
  let server: ProductionServer | undefined = shared?.server;
  const workers: WorkerProcess[] = [];
  try {
    if (!server) {
      const tools = productionTools();
      createTemporalSchema(tools, postgres);
      server = await startProductionServer(tools, postgres, join(root, 'temporal'));
    }
    await prepareNamespace(server.address, namespace, shared?.tls);
    const bundle = await bundleWorkflowCode({
      workflowsPath: workflowsPath(),
      payloadConverterPath: payloadConverterPath(),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
    });
    const bundlePath = join(root, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    const address = server.address;
    const clientEnv = shared ? shared.env(namespace) : { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace };
    const add = (queue: string, kind: string, count: number) => {
      for (let index = 1; index <= count; index += 1) {
        const name = `${kind}-${workers.filter((worker) => worker.name.startsWith(`${kind}-`)).length + 1}`;
        const workspace = join(root, 'workers', name);
        mkdirSync(workspace, { recursive: true });
        workers.push({ name, taskQueue: queue, workspace, log: join(root, 'workers', `${name}.log`), starts: 0 });
      }
    };
    add(options.taskQueue, 'release', options.releaseWorkers ?? 2);
    add(options.buildTaskQueue, 'build', options.buildWorkers ?? 2);
    const env = {
      ...process.env,
      ...options.env,
      ...clientEnv,
      RELFLOW_BUILD_TASK_QUEUE: options.buildTaskQueue,
      RELFLOW_WORKFLOW_BUNDLE: bundlePath,
    };
    // Each worker starts from its systemd unit (deploy/systemd): its command and its settings, but for those of this host
    // (addresses, paths, queues, trust) which the topology and the test give.
    const units = { release: serviceUnit('relflow-worker.service'), build: serviceUnit('relflow-build-worker.service') };
    const startWorker = async (worker: WorkerProcess) => {
      const out = openSync(worker.log, 'a');
      worker.starts += 1;
      const unit = worker.name.startsWith('build') ? units.build : units.release;
      const [command, ...args] = localCommand(unit.execStart);
      const unitSettings = Object.fromEntries(Object.entries(unit.environment).filter(([name]) => !HOST_SETTINGS.test(name)));
      const child = spawn(command, [...args, ...(worker.args ?? [])], {
        env: { ...unitSettings, ...env, ...worker.env, RELFLOW_TASK_QUEUE: worker.taskQueue, RELFLOW_WORKSPACE: worker.workspace },
        stdio: ['ignore', out, out],
      });
      closeSync(out);
      worker.process = child;
      await waitForLog(worker, `polling '${worker.taskQueue}'`, worker.starts);
    };
    await Promise.all(workers.map(startWorker));
    const client = new Client({ connection: await Connection.connect({ address, tls: shared?.tls }), namespace });
    const running = server;
    return {
      root,
      address,
      namespace,
      postgres,
      server: running,
      client,
      clientEnv,
      workers,
      startWorker,
      addWorker: async (kind, extra) => {
        add(kind === 'release' ? options.taskQueue : options.buildTaskQueue, kind, 1);
        const worker = workers[workers.length - 1];
        Object.assign(worker, extra);
        await startWorker(worker);
        return worker;
      },
      killWorker: (worker) => {
        worker.process?.kill('SIGKILL');
        worker.process = undefined;
      },
      workerLogs: () => workers.map((worker) => `--- ${worker.name}\n${readLog(worker.log)}`).join('\n'),
      stop: async () => {
        for (const worker of workers) worker.process?.kill('SIGTERM');
        await client.connection.close();
        if (!shared) {
          await running.stop();
          postgres.remove();
        }
      },
    };
  } catch (error) {
    for (const worker of workers) worker.process?.kill('SIGKILL');
    if (!shared) {
      await server?.stop();
      postgres.remove();
    }
    throw error;
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Waits for the `count`-th occurrence of `line` in a worker's log (a restarted worker appends to it). */
async function waitForLog(worker: WorkerProcess, line: string, count: number): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (readLog(worker.log).split(line).length - 1 < count) {
    if (worker.process && worker.process.exitCode !== null) {
      throw new Error(`worker ${worker.name} exited with code ${worker.process.exitCode}:\n${readLog(worker.log).slice(-3000)}`);
    }
    if (Date.now() > deadline) throw new Error(`worker ${worker.name} did not start within 90 s:\n${readLog(worker.log).slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `relflow start <args> --json` against the topology's queues, as an operator runs it; the release ID it started. */
export function startWithCli(
  topology: ProductionTopology,
  fixture: { config: string; env: NodeJS.ProcessEnv },
  queues: { taskQueue: string; buildTaskQueue: string },
  args: string[],
): string {
  const started = spawnSync(
    process.execPath,
    [
      RELFLOW_BIN,
      'start',
      ...args,
      '-c',
      fixture.config,
      '--task-queue',
      queues.taskQueue,
      '--build-task-queue',
      queues.buildTaskQueue,
      '--json',
    ],
    { encoding: 'utf8', env: { ...process.env, ...fixture.env, ...topology.clientEnv } },
  );
  if (started.status !== 0) throw new Error(`relflow start ${args.join(' ')} failed: ${started.stderr}`);
  return (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
}
