import { prometheusTelemetry } from '../../worker/metrics';
import { copyFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { UserError } from '../../config/errors';
import { nodeRuntimeNotice } from '../../worker/nodeRuntime';
import { ensureTools, projectRoot, pythonTool } from '../../worker/tools';
import { DevServer, isPortOpen, startDevServer } from '../../dev/temporalServer';
import { startWorkers } from '../../worker/worker';
import { defaultWorkspaceDir } from '../../config/project';
import { connectWorker, temporalSettings } from '../connection';

export interface DevOptions {
  /** The frontend's port; default: the port of TEMPORAL_ADDRESS (7233). */
  port?: number;
  uiPort: number;
  dbFile: string;
  /** Start the release and build workers too (default true). */
  workers?: boolean;
}

function portOf(address: string): { ip: string; port: number } {
  const match = /^([^:]+):(\d+)$/.exec(address);
  if (!match) throw new UserError(`TEMPORAL_ADDRESS '${address}': expected host:port, e.g. 127.0.0.1:7233`);
  return { ip: match[1] === 'localhost' ? '127.0.0.1' : match[1], port: Number(match[2]) };
}

/** Worker logs at WARN, and no SDK signal handlers: the commands stop the worker themselves. */
export function installQuietRuntime(level: 'WARN' | 'ERROR' = 'WARN'): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(level),
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} }, ...prometheusTelemetry(process.env) },
  });
}

/** Starts the embedded Temporal dev server, then runs the worker until the process is interrupted. */
export async function startDevEnvironment(
  options: DevOptions,
  log: (line: string) => void,
): Promise<{ server: DevServer; stop: () => Promise<void> }> {
  const tools = ensureTools();
  if (options.port !== undefined) {
    // This process and the workers it starts talk to the server on the port asked for.
    process.env.TEMPORAL_ADDRESS = `${portOf(temporalSettings().address).ip}:${options.port}`;
  }
  const settings = temporalSettings();
  const { ip, port } = portOf(settings.address);
  if (options.uiPort && (await isPortOpen(ip, options.uiPort))) {
    throw new UserError(
      `--ui-port ${options.uiPort}: port ${options.uiPort} on ${ip} is already in use (another relflow dev or Temporal Web UI?); pass another, e.g. --port ${port + 1} --ui-port ${options.uiPort + 1}`,
    );
  }
  log(`starting Temporal dev server on ${ip}:${port} (state in ${options.dbFile})`);
  const serverLog = join(dirname(options.dbFile), 'temporal-server.log');
  const server = await startDevServer({
    temporalCli: tools.temporalCli,
    dbFile: options.dbFile,
    ip,
    port,
    uiPort: options.uiPort,
    namespace: settings.namespace,
    log: serverLog,
  });
  log(`server log: ${serverLog}`);
  log(`Temporal Web UI: ${server.uiUrl}`);
  log(
    `for relflow in another shell: export TEMPORAL_ADDRESS=${ip}:${port}${settings.namespace !== 'default' ? ` TEMPORAL_NAMESPACE=${settings.namespace}` : ''}`,
  );
  if (options.workers === false) return { server, stop: () => server.stop() };
  if (!process.env.RELFLOW_SECRETS) {
    const file = join(dirname(options.dbFile), 'secrets.yaml');
    if (!existsSync(file)) copyFileSync(join(projectRoot, 'relflow.secrets.example.yaml'), file);
    process.env.RELFLOW_SECRETS = file;
  }
  const runtime = nodeRuntimeNotice();
  log(`workers on ${runtime.line}`);
  if (runtime.warning) log(`warning: ${runtime.warning}`);
  log(`secrets file: ${process.env.RELFLOW_SECRETS} (RELFLOW_SECRETS: which secret the workers may send to which host)`);
  const connection = await connectWorker(settings);
  const workers = await startWorkers({
    connection,
    namespace: settings.namespace,
    workspaceDir: defaultWorkspaceDir(),
    pythonBin: pythonTool(tools, 'python'),
  });
  log(`workers polling task queues ${workers.taskQueues.map((queue) => `'${queue}'`).join(' and ')} (workspace ${defaultWorkspaceDir()})`);
  const stop = async () => {
    await workers.stop();
    await connection.close();
    await server.stop();
  };
  return { server, stop };
}

export async function devCommand(options: DevOptions): Promise<void> {
  installQuietRuntime();
  const log = (line: string) => process.stdout.write(`[relflow dev] ${line}\n`);
  const { stop } = await startDevEnvironment(options, log);
  log('ready; Ctrl-C stops the worker and the server');
  await new Promise<void>((resolve) => {
    const handler = () => resolve();
    process.once('SIGINT', handler);
    process.once('SIGTERM', handler);
  });
  log('stopping');
  await stop();
  log('stopped');
}
