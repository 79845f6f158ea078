import { spawn } from 'node:child_process';
import { Context } from '@temporalio/activity';

export interface CommandResult {
  code: number | null;
  output: string;
}

/**
 * Runs a command (argv, never through a shell unless the caller asks for `sh -c`),
 * heartbeating while it runs and killing its process group on cancellation or timeout.
 */
export function runProcess(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
      why = new Error(`${argv[0]} did not finish within ${Math.round(options.timeoutMs / 1000)} s`);
      kill();
    }, options.timeoutMs);
    heartbeat();
    const beat = setInterval(() => heartbeat(), 1000);
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
      if (why) reject(why);
      else resolve({ code, output });
    });
  });
}

export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // Called outside an activity.
  }
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
