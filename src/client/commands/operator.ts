import { parsePerson, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** operator: the commands of the CLI. */
export function registerOperatorCommands(program: Command): void {
  for (const action of ['retry', 'skip', 'abort'] as const) {
    program
      .command(action)
      .description(`${action} the stage a blocked release waits on`)
      .argument('<release-id>', 'the blocked release', parseReleaseId)
      .option('--by <name>', 'who acts', parsePerson, process.env.USER ?? 'unknown')
      .option('--reason <text>', 'why, for the report')
      .addHelpText('after', `\nExample:\n  relflow ${action} cloudify-3.4 --reason "mirror is back"`)
      .action(async (releaseId: string, options: { by: string; reason?: string }) =>
        (await import('../actions/operator.js')).operatorAction(releaseId, { action, by: options.by, reason: options.reason }),
      );
  }

  program
    .command('cancel')
    .description('cancel a running release: builds are cancelled and their machines torn down')
    .argument('<release-id>', 'the release', parseReleaseId)
    .addHelpText('after', '\nExample:\n  relflow cancel cloudify-nightly-20261124')
    .action(async (releaseId: string) => (await import('../actions/operator.js')).cancelAction(releaseId));
}
