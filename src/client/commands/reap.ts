import { configOption, parseDuration } from '../options';
import type { Command } from 'commander';

/** reap: the command of the CLI. */
export function registerReapCommand(program: Command): void {
  program
    .command('reap')
    .description('terminate the EC2 build machines whose release no longer runs (what a terminated release leaves behind)')
    .addOption(configOption())
    .option('--dry-run', 'list what would be terminated; terminate nothing')
    .option('--grace <duration>', 'keep machines launched less than this long ago, whatever their release', parseDuration, '15m')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  relflow reap -c relflow.yaml --dry-run\n  relflow schedule create reap --cron "*/30 * * * *" -c relflow.yaml   # every 30 minutes',
    )
    .action(async (options: { config: string; dryRun?: boolean; grace: string; json?: boolean }) =>
      (await import('../actions/reap.js')).reapAction(options),
    );
}
