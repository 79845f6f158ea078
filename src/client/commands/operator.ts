import { parsePerson, parseReleaseId } from '../options';
import type { Command } from 'commander';
import type { OperatorOptions } from '../actions/operator';

/** operator: the commands of the CLI. */
export function registerOperatorCommands(program: Command): void {
  for (const action of ['retry', 'skip', 'abort'] as const) {
    program
      .command(action)
      .description(`${action} the stage a blocked release waits on`)
      .argument('<release-id>', 'the blocked release', parseReleaseId)
      .option('--by <name>', 'who acts', parsePerson, process.env.USER ?? 'unknown')
      .option('--reason <text>', 'why, for the report')
      .option(
        '--key <file>',
        'the SSH key that signs the command (as for relflow approve); default RELFLOW_SIGNING_KEY, else ~/.ssh/id_ed25519 when it exists. Workers whose secrets file lists operators.allowedSigners take signed commands only',
      )
      .option('--no-sign', 'send the command unsigned (for workers that take unsigned commands)')
      .addHelpText('after', `\nExample:\n  relflow ${action} cloudify-3.4 --reason "mirror is back" --key ~/.ssh/release_ed25519`)
      .action(async (releaseId: string, options: OperatorOptions) =>
        (await import('../actions/operator.js')).operatorAction(releaseId, action, options),
      );
  }

  program
    .command('cancel')
    .description('cancel a running release: builds are cancelled and their machines torn down')
    .argument('<release-id>', 'the release', parseReleaseId)
    .addHelpText('after', '\nExample:\n  relflow cancel cloudify-nightly-20261124')
    .action(async (releaseId: string) => (await import('../actions/operator.js')).cancelAction(releaseId));
}
