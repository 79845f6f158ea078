import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { projectRoot } from '../../config/project';
import { runProcess, scratchHome } from '../process';

/** Where the builds of this worker run: bubblewrap (bwrap), or nowhere special when the operator says so. */
export type Sandbox = { kind: 'bubblewrap'; bwrap: string } | { kind: 'none'; reason: string } | { kind: 'missing'; problem: string };

/** System directories a build may read (never write): the programs and libraries it runs. */
const SYSTEM_DIRECTORIES = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/etc', '/opt'];

/**
 * The worker's sandbox: RELFLOW_SANDBOX=none opts out (the preflight says so);
 * otherwise RELFLOW_BWRAP, else the bootstrap's bubblewrap, else bwrap on PATH.
 */
export function workerSandbox(env: NodeJS.ProcessEnv): Sandbox {
  if (env.RELFLOW_SANDBOX === 'none') return { kind: 'none', reason: 'RELFLOW_SANDBOX=none: builds run unsandboxed, as the worker user' };
  if (env.RELFLOW_SANDBOX && env.RELFLOW_SANDBOX !== 'bubblewrap') {
    return { kind: 'missing', problem: `RELFLOW_SANDBOX=${env.RELFLOW_SANDBOX.slice(0, 40)}: expected bubblewrap (the default) or none` };
  }
  // RELFLOW_BWRAP, when set, is the operator's choice: no other bwrap stands in for it.
  for (const candidate of env.RELFLOW_BWRAP ? [env.RELFLOW_BWRAP] : [bootstrapBwrap(), 'bwrap']) {
    if (!candidate) continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8', env: { PATH: env.PATH ?? '' } });
    if (probe.status === 0) return { kind: 'bubblewrap', bwrap: candidate };
  }
  return {
    kind: 'missing',
    problem:
      "a product's code (local builds, a CI command, system tests, python -m build) runs in a bubblewrap sandbox, and this worker has none: run npm run bootstrap (it installs bubblewrap with apt-get download), set RELFLOW_BWRAP, or set RELFLOW_SANDBOX=none to build unsandboxed",
  };
}

function bootstrapBwrap(): string | undefined {
  const file = join(projectRoot, '.relflow', 'tools.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { bwrap?: string }).bwrap;
}

/**
 * The command line that runs `argv` in the sandbox: new namespaces of every
 * kind (no network unless `network`), a PID namespace that dies with the build
 * and its own /proc, a new session, the system read-only, /tmp empty, and only
 * the build directory writable. The programs on PATH (and directories the
 * build's variables name, and `readable`) are visible read-only; nothing else of the worker is.
 */
export function sandboxed(
  sandbox: Sandbox,
  argv: string[],
  options: { buildDir: string; cwd: string; env: NodeJS.ProcessEnv; network: boolean; what: string; readable?: string[] },
): string[] {
  if (sandbox.kind === 'none') return argv;
  if (sandbox.kind === 'missing') throw ApplicationFailure.nonRetryable(`${options.what}: ${sandbox.problem}`, 'SandboxMissing');
  const readable = new Set(SYSTEM_DIRECTORIES.filter((dir) => existsSync(dir)));
  const visible = (path: string) => {
    if (!isAbsolute(path) || !existsSync(path) || path === '/' || path.startsWith(options.buildDir)) return;
    // A program directory's parent (bin/../lib holds what its programs load), never the root itself.
    const parent = dirname(path);
    readable.add(statSync(path).isDirectory() && path.endsWith('/bin') && parent !== '/' ? parent : path);
  };
  for (const dir of [...(options.env.PATH ?? '').split(':'), ...(options.readable ?? [])]) visible(dir);
  for (const [name, value] of Object.entries(options.env)) {
    if (name !== 'PATH' && name !== 'HOME' && name !== 'TMPDIR' && value) visible(value);
  }
  const args = ['--die-with-parent', '--new-session', '--unshare-all', ...(options.network ? ['--share-net'] : [])];
  // /tmp first: a program directory or the build directory under /tmp is mounted over the empty one, not hidden by it.
  args.push('--tmpfs', '/tmp');
  for (const dir of [...readable].sort()) args.push('--ro-bind', dir, dir);
  args.push('--proc', '/proc', '--dev', '/dev', '--bind', options.buildDir, options.buildDir);
  args.push('--setenv', 'TMPDIR', '/tmp', '--chdir', options.cwd, '--');
  return [sandbox.bwrap, ...args, ...argv];
}

/**
 * A manifest's shell command (ci.command, systemTests.command) in the sandbox,
 * with the network, in `dir` with a scratch HOME; it sees PATH, HOME and `variables` only.
 */
export function runSandboxedCommand(
  sandbox: Sandbox,
  command: string,
  options: { dir: string; env: NodeJS.ProcessEnv; variables: Record<string, string>; timeoutMs: number; what: string },
): ReturnType<typeof runProcess> {
  const { dir } = options;
  const env = { PATH: options.env.PATH, HOME: scratchHome(dir), ...options.variables };
  const argv = sandboxed(sandbox, ['sh', '-c', command], { buildDir: dir, cwd: dir, env, network: true, what: options.what });
  return runProcess(argv, { cwd: dir, env, timeoutMs: options.timeoutMs });
}
