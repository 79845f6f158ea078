import { Option } from 'commander';
import { UserError } from '../../config/errors';
import { decisionShapeProblem } from '../../release/decisions';
import { connectClient } from '../connection';
import type { GateName } from '../../release/model';
import { decideGate } from '../releases';
import { out, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** gates: the commands of the CLI. */
export function registerGatesCommands(program: Command): void {
  const byOption = () =>
    new Option('--by <name>', 'who decides (checked against the gate approvers)').default(process.env.USER ?? 'unknown');

  for (const [name, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} a gate of a waiting release (the release answers at once, or says why not)`)
      .argument('<release-id>', 'the release', parseReleaseId)
      .argument('<gate>', 'pypi or docs')
      .addOption(byOption())
      .option('--comment <text>', 'why, for the report')
      .addHelpText('after', `\nExample:\n  relflow ${name} cloudify-3.4 pypi --by alice`)
      .action(async (releaseId: string, gate: string, options: { by: string; comment?: string }) => {
        const problem = decisionShapeProblem({ gate, by: options.by, comment: options.comment });
        if (problem) throw new UserError(problem);
        const state = await decideGate(
          await connectClient(),
          releaseId,
          { gate: gate as GateName, by: options.by, comment: options.comment },
          approve,
        );
        // The decision was recorded: that is success for this command, a rejection included.
        out(`gate ${state.name} of ${releaseId}: ${state.status} by ${state.by}`);
      });
  }
}
