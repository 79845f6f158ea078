import { parseReleaseId } from '../options';
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
    .action(async (releaseId: string, options: { json?: boolean }) =>
      (await import('../actions/status.js')).statusAction(releaseId, options),
    );
}
