import { parsePerson, parseReleaseId, workerDefaults } from '../options';
import type { Command } from 'commander';
import type { RetagOptions } from '../actions/retag';

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
    .option(
      '--key <file>',
      'the SSH key that signs the request (as for relflow retry); default RELFLOW_SIGNING_KEY, else ~/.ssh/id_ed25519 when it exists. Workers whose secrets file lists operators.allowedSigners retag on signed requests only',
    )
    .option('--no-sign', 'send the request unsigned (for workers that take unsigned operator commands)')
    .addHelpText(
      'after',
      '\nThe workers read the tag, branch and repository URL from the release itself; a tag that a successful release published moves only with --force.\n\nExample:\n  relflow retag cloudify-3.4m5 --repository cloudify-manager --key ~/.ssh/release_ed25519',
    )
    .action(async (releaseId: string, options: RetagOptions) => (await import('../actions/retag.js')).retagAction(releaseId, options));
}
