import { parsePositive, parseReleaseId } from '../options';
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
    .action(async (releaseId: string, options: { interval: number; json?: boolean }) =>
      (await import('../actions/watch.js')).watchAction(releaseId, options),
    );
}
