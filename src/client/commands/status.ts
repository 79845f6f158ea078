import { connectClient } from '../connection';
import { formatRelease, formatRuns } from '../format';
import { releaseRuns, releaseState } from '../releases';
import { formatRunning, runningActivities } from '../progress';
import { exitCodeOf, out, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** status: the command of the CLI. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description(
      "print a release's stages and repositories, and what runs now (uploads with their progress, CI checks pending, builds' last log line)",
    )
    .argument('<release-id>', 'the release ID printed by `relflow start` (e.g. cloudify-3.4)', parseReleaseId)
    .option('--json', 'print the state as JSON')
    .addHelpText('after', '\nExample:\n  relflow status cloudify-nightly-20261124 --json')
    .action(async (releaseId: string, options: { json?: boolean }) => {
      const client = await connectClient();
      const state = await releaseState(client, releaseId);
      const runs = await releaseRuns(client, releaseId);
      const running = await runningActivities(client, state);
      out(
        options.json
          ? JSON.stringify({ ...state, runs, running }, null, 2)
          : `${formatRelease(state)}${formatRunning(running)}${formatRuns(runs)}`,
      );
      process.exitCode = exitCodeOf(state);
    });
}
