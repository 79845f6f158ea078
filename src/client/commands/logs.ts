import { parsePositive, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** logs: the command of the CLI. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("the last lines of a running artifact build's log (from its heartbeats), or how the build ended")
    .argument('<release-id>', 'the release', parseReleaseId)
    .argument('<artifact>', 'the artifact, as named in the manifest')
    .option('-f, --follow', 'print new lines as they come, until the build ends')
    .option('--interval <ms>', 'how often to look with --follow', parsePositive, 1000)
    .addHelpText('after', '\nExamples:\n  relflow logs cloudify-3.4 cloudify-ui\n  relflow logs cloudify-3.4 cloudify-ui -f')
    .action(async (releaseId: string, name: string, options: { follow?: boolean; interval: number }) =>
      (await import('../actions/logs.js')).logsAction(releaseId, name, options),
    );
}
