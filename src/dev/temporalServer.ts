import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../config/errors';
import { projectRoot } from '../config/project';
import { SEARCH_ATTRIBUTES } from '../workflows/searchAttributes';

export interface DevServerOptions {
  temporalCli: string;
  /** SQLite file; state survives a restart. In memory when absent. */
  dbFile?: string;
  ip?: string;
  port: number;
  /** Web UI port; headless when absent. */
  uiPort?: number;
  namespace?: string;
  /** Where the server's own log goes: a file path, 'ignore', or (when absent) inherited stderr. */
  log?: string;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const SEARCH_ATTRIBUTE_TYPE: Record<string, string> = { KEYWORD: 'Keyword', TEXT: 'Text', INT: 'Int', DATETIME: 'Datetime' };

export function devServerArgs(options: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    options.ip ?? '127.0.0.1',
    '--port',
    String(options.port),
    '--namespace',
    options.namespace ?? 'default',
  ];
  args.push('--log-format', 'pretty', '--log-level', 'warn');
  if (options.dbFile) args.push('--db-filename', options.dbFile);
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${SEARCH_ATTRIBUTE_TYPE[key.type]}`);
  return [...args, ...devServerDynamicConfigArgs()];
}

/** The server's dynamic configuration for relflow, one file for docker-compose, the harness and the dev server. */
export const DYNAMIC_CONFIG_FILE = join(projectRoot, 'deploy', 'temporal-dynamicconfig.yaml');

/** The file's settings as key and value (each has one value, for the whole server). */
export function relflowDynamicConfig(): [string, unknown][] {
  const settings = parse(readFileSync(DYNAMIC_CONFIG_FILE, 'utf8')) as Record<string, { value: unknown }[]>;
  return Object.entries(settings).map(([key, values]) => [key, values[0].value]);
}

/** The same settings for the dev server, which takes them as --dynamic-config-value. */
export function devServerDynamicConfigArgs(): string[] {
  return relflowDynamicConfig().flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);
}

export function isPortOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** Starts `temporal server start-dev` and waits until its frontend accepts connections. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  if (await isPortOpen(ip, options.port)) {
    throw new UserError(
      `port ${options.port} on ${ip} is already in use; is another Temporal server running? (set TEMPORAL_ADDRESS to use it)`,
    );
  }
  if (options.dbFile) mkdirSync(dirname(options.dbFile), { recursive: true });
  const logFd = options.log && options.log !== 'ignore' ? openSync(options.log, 'a') : undefined;
  const output = logFd ?? (options.log === 'ignore' ? 'ignore' : 'inherit');
  const child = spawn(options.temporalCli, devServerArgs(options), { stdio: ['ignore', output, output] });
  if (logFd !== undefined) closeSync(logFd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
  });
  child.once('error', (error) => {
    exited = error.message;
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  while (!(await isPortOpen(ip, options.port))) {
    if (exited) {
      // Its own words (e.g. a port already in use) are the last line of its log.
      const logFile = options.log && options.log !== 'ignore' ? options.log : undefined;
      const last = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').at(-1) : undefined;
      throw new UserError(
        `the Temporal dev server (${options.temporalCli}) ${exited} before it listened on ${ip}:${options.port}${last ? `: ${last.slice(0, 300)}` : ''}${logFile ? ` (log: ${logFile})` : ''}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new UserError(`the Temporal dev server did not listen on ${ip}:${options.port} within ${options.startTimeoutMs ?? 60_000} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    address: `${ip}:${options.port}`,
    uiUrl: options.uiPort ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${options.uiPort}` : undefined,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
