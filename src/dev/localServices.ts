import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { ensureTools, pythonTool } from '../worker/tools';
import { freePort, isPortOpen } from './temporalServer';

/** Real servers from the tools environment (moto, pypiserver), on loopback, for the tests, the demo and the benchmark. */
const running: ChildProcess[] = [];

async function startServer(argv: string[], port: number, what: string): Promise<void> {
  const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
  running.push(child);
  const deadline = Date.now() + 60_000;
  while (!(await isPortOpen('127.0.0.1', port))) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

let moto: Promise<string> | undefined;

/** moto server (S3, EC2) on loopback; returns its endpoint URL. */
export function motoEndpoint(): Promise<string> {
  moto ??= (async () => {
    const port = await freePort();
    await startServer([pythonTool(ensureTools(), 'moto_server'), '-H', '127.0.0.1', '-p', String(port)], port, 'moto server');
    return `http://127.0.0.1:${port}`;
  })();
  return moto;
}

/**
 * A pypiserver over `packagesDir`; returns its base URL. Without `htpasswd` it takes any upload;
 * with one (an Apache htpasswd file: `htpasswd -c -B file user`), uploads need its credentials.
 */
export async function startPypiServer(packagesDir: string, options: { htpasswd?: string } = {}): Promise<string> {
  mkdirSync(packagesDir, { recursive: true });
  const port = await freePort();
  const authentication = options.htpasswd ? ['-a', 'update', '-P', options.htpasswd] : ['-a', '.', '-P', '.'];
  await startServer(
    [pythonTool(ensureTools(), 'pypi-server'), 'run', '-i', '127.0.0.1', '-p', String(port), ...authentication, packagesDir],
    port,
    'pypiserver',
  );
  return `http://127.0.0.1:${port}`;
}

export function stopServices(): void {
  for (const child of running.splice(0)) child.kill('SIGTERM');
  moto = undefined;
}

/** Credentials moto accepts (any do); the worker reads them from these variables. */
export const MOTO_ENV = { TEST_AWS_KEY: 'moto-access-key-id', TEST_AWS_SECRET: 'moto-secret-access-key-value' };
