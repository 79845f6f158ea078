import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { SPAWN_FAILED } from './processGuardProtocol';

/** A command that ran longer than it was given. */
export class CommandTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandTimeout';
  }
}

export interface CommandResult {
  code: number | null;
  output: string;
}

/**
 * Runs a command (argv, never through a shell unless the caller asks for `sh -c`),
 * heartbeating while it runs and killing its process group on cancellation or
 * timeout. The command runs under the process guard, in a process group of its
 * own that dies with this worker: a SIGKILLed worker leaves no build running.
 */
export function runProcess(
  argv: string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    /** Heartbeat the last lines of the output (a build's log). */ logTail?: boolean;
  },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve('./processGuard'), ...argv], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    child.stdin.on('error', () => undefined);
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const kill = () => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    let why: Error | undefined;
    const timer = setTimeout(() => {
      why = new CommandTimeout(`${argv[0]} did not finish within ${Math.round(options.timeoutMs / 1000)} s`);
      kill();
    }, options.timeoutMs);
    const beatOnce = () => (options.logTail ? heartbeat({ log: output.trimEnd().split('\n').slice(-LOG_TAIL_LINES) }) : heartbeat());
    beatOnce();
    const beat = setInterval(beatOnce, 1000);
    try {
      Context.current().cancelled.catch((error: Error) => {
        why = error;
        kill();
      });
    } catch {
      // Called outside an activity.
    }
    child.once('error', (error) => {
      clearTimeout(timer);
      clearInterval(beat);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      clearInterval(beat);
      child.stdin.destroy();
      const spawnFailure = code === 127 ? output.split('\n').find((line) => line.startsWith(SPAWN_FAILED)) : undefined;
      if (why) reject(why);
      else if (spawnFailure) {
        // The command could not start: the error spawn would have given, with its code (ENOENT, EACCES).
        const failure = JSON.parse(spawnFailure.slice(SPAWN_FAILED.length)) as { message: string; code?: string };
        reject(Object.assign(new Error(failure.message), { code: failure.code, path: argv[0], syscall: `spawn ${argv[0]}` }));
      } else resolve({ code, output });
    });
  });
}

/** How many lines of a running build's log its heartbeats carry (`relflow logs`). */
export const LOG_TAIL_LINES = 20;

const lastDetails = new WeakMap<Context, unknown>();

export function heartbeat(details?: unknown): void {
  try {
    const context = Context.current();
    if (details !== undefined) lastDetails.set(context, details);
    context.heartbeat(details ?? lastDetails.get(context));
  } catch {
    // Called outside an activity.
  }
}

/** How often every activity heartbeats while it runs, whatever it is waiting on. */
export const KEEP_ALIVE_MS = 2000;

/**
 * The activity, heartbeating every KEEP_ALIVE_MS while it runs (with the last
 * details it gave), so that a worker that dies is noticed within the heartbeat
 * timeout whatever the activity was doing: a network call, a wait, a hash.
 * A live worker with a stuck call is bounded by the start-to-close timeout.
 */
export function keepingAlive<A extends unknown[], R>(activity: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args: A) => {
    heartbeat();
    const beat = setInterval(() => heartbeat(), KEEP_ALIVE_MS);
    try {
      return await activity(...args);
    } finally {
      clearInterval(beat);
    }
  };
}

export function lastLines(output: string, count = 5): string {
  return output.trim().split('\n').slice(-count).join(' | ');
}

/** Waits; inside an activity the wait ends early, with the cancellation, when the activity is cancelled. */
export async function pause(ms: number): Promise<void> {
  let context: Context | undefined;
  try {
    context = Context.current();
  } catch {
    // Called outside an activity.
  }
  if (context) await context.sleep(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

/** The proxy settings, which every child that reaches the network needs as the worker has them. */
export const PROXY_VARIABLES = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'] as const;

/** These variables of an environment, those that are set: what a child process is allowed to see of the worker's. */
export function variablesOf(env: NodeJS.ProcessEnv, names: readonly string[]): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {};
  for (const name of names) if (env[name] !== undefined) result[name] = env[name];
  return result;
}

/**
 * A HOME of its own for a command that runs the release's or the repository's
 * code (a CI command, system tests, `python -m build`), inside a directory the
 * caller removes: nothing it writes there reaches the worker's real HOME, and
 * it reads none of the worker's dotfiles (~/.gitconfig, ~/.ssh, ~/.aws).
 */
export function scratchHome(dir: string): string {
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}
