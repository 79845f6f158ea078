/**
 * Runs a command for a worker and dies with it: `node processGuard.js cmd args...`.
 * The worker holds this process's stdin; when the worker goes away (even by
 * SIGKILL, which no handler sees) the pipe closes and the guard kills its own
 * process group, the command and everything it started, so that no orphaned
 * build keeps writing into a workspace another attempt is using.
 */
import { spawn } from 'node:child_process';
import { SPAWN_FAILED } from './processGuardProtocol';

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });

function killGroup(): void {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
    process.exit(137);
  }
}

process.stdin.on('end', killGroup);
process.stdin.on('close', killGroup);
process.stdin.on('error', killGroup);
process.stdin.resume();
child.once('error', (error) => {
  process.stderr.write(`${SPAWN_FAILED}${JSON.stringify({ message: error.message, code: (error as NodeJS.ErrnoException).code })}\n`);
  process.exit(127);
});
child.once('exit', (code, signal) => {
  process.exit(code ?? (signal ? 128 : 1));
});
