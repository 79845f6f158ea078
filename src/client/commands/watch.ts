import { connectClient } from '../connection';
import { formatRelease } from '../format';
import { releaseState } from '../releases';
import { formatRunning, runningActivities } from '../progress';
import { exitCodeOf, out, parsePositive, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** watch: the command of the CLI. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('follow a release live until it ends or waits at a gate')
    .argument('<release-id>', 'the release', parseReleaseId)
    .option('--interval <ms>', 'refresh interval', parsePositive, 1000)
    .option('--json', 'print each state as one line of JSON')
    .addHelpText('after', '\nExample:\n  relflow watch cloudify-3.4')
    .action(async (releaseId: string, options: { interval: number; json?: boolean }) => {
      const client = await connectClient();
      for (;;) {
        const state = await releaseState(client, releaseId);
        const running = await runningActivities(client, state);
        if (options.json) out(JSON.stringify({ ...state, running }));
        else {
          if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          out(`${formatRelease(state)}${formatRunning(running)}`);
        }
        const ended = !['running'].includes(state.status);
        if (ended) {
          process.exitCode = exitCodeOf(state);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, options.interval));
      }
    });
}
