import { parseDuration } from '../options';
import type { Command } from 'commander';

/** setup-namespace: the command of the CLI. */
export function registerNamespaceCommand(program: Command): void {
  program
    .command('setup-namespace')
    .description(
      "register the namespace (TEMPORAL_NAMESPACE) and relflow's search attributes on a Temporal server of your own; safe to run again",
    )
    .option('--retention <duration>', 'how long the server keeps a closed release (a new namespace only)', parseDuration, '30d')
    .addHelpText(
      'after',
      '\nExamples:\n  TEMPORAL_ADDRESS=temporal.internal:7233 TEMPORAL_NAMESPACE=releases relflow setup-namespace --retention 90d',
    )
    .action(async (options: { retention: string }) => (await import('../actions/namespace.js')).setUpNamespaceAction(options));
}
