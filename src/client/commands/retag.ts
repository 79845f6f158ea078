import { parsePerson, parseReleaseId, workerDefaults } from '../options';
import type { Command } from 'commander';

/** retag: the command of the CLI. */
export function registerRetagCommand(program: Command): void {
  const defaults = workerDefaults();
  program
    .command('retag')
    .description("move a release's tag to the head of its build branch and force-push it (never done implicitly)")
    .argument('<release-id>', 'the release', parseReleaseId)
    .requiredOption('--repository <name>', 'the repository whose tag moves')
    .option('--by <name>', 'who asks', parsePerson, process.env.USER ?? 'unknown')
    .option('--task-queue <name>', 'task queue of the release workers', defaults.taskQueue)
    .option('--force', 'move the tag even when it belongs to a release that succeeded (rewrites what it published)')
    .addHelpText('after', '\nExample:\n  relflow retag cloudify-3.4m5 --repository cloudify-manager')
    .action(async (releaseId: string, options: { repository: string; by: string; taskQueue: string; force?: boolean }) =>
      (await import('../actions/retag.js')).retagAction(releaseId, options),
    );
}
