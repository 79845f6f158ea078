import { WorkflowNotFoundError } from '@temporalio/client';
import { UserError } from '../../config/errors';
import { commandShapeProblem } from '../../release/decisions';
import { connectClient } from '../connection';
import { operateRelease } from '../releases';
import { out, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** operator: the commands of the CLI. */
export function registerOperatorCommands(program: Command): void {
  for (const action of ['retry', 'skip', 'abort'] as const) {
    program
      .command(action)
      .description(`${action} the stage a blocked release waits on`)
      .argument('<release-id>', 'the blocked release', parseReleaseId)
      .option('--by <name>', 'who acts', process.env.USER ?? 'unknown')
      .option('--reason <text>', 'why, for the report')
      .addHelpText('after', `\nExample:\n  relflow ${action} cloudify-3.4 --reason "mirror is back"`)
      .action(async (releaseId: string, options: { by: string; reason?: string }) => {
        const command = { action, by: options.by, reason: options.reason };
        const problem = commandShapeProblem(command);
        if (problem) throw new UserError(problem);
        out(await operateRelease(await connectClient(), releaseId, command));
      });
  }

  program
    .command('cancel')
    .description('cancel a running release: builds are cancelled and their machines torn down')
    .argument('<release-id>', 'the release', parseReleaseId)
    .addHelpText('after', '\nExample:\n  relflow cancel cloudify-nightly-20261124')
    .action(async (releaseId: string) => {
      try {
        await (await connectClient()).workflow.getHandle(releaseId).cancel();
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw new UserError(`no running release with ID '${releaseId}' (see \`relflow list\`)`);
        throw error;
      }
      out(`cancellation requested for ${releaseId}`);
    });
}
