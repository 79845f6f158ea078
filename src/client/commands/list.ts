import type { Command } from 'commander';
import type { ListOptions } from '../actions/list';

/** list: the command of the CLI. */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list releases, filtered by their search attributes; a release started again shows each run')
    .option('--kind <kind>', 'nightly, milestone, ga or patch')
    .option('--version <version>', 'release name, e.g. 3.4m5')
    .option('--status <status>', 'running, waiting, blocked, succeeded, failed, aborted, cancelled')
    .option('--product <name>', 'product')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  relflow list --kind ga --status succeeded')
    .action(async (options: ListOptions) => (await import('../actions/list.js')).listAction(options));
}
