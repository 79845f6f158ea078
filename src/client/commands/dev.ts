import { parsePositive } from '../options';
import type { Command } from 'commander';
import { defaultDevDbFile } from '../../config/project';

/** dev: the command of the CLI. */
export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('run the embedded Temporal dev server (state in .relflow/) and a worker until Ctrl-C')
    .option('--port <port>', "Temporal frontend port (default: TEMPORAL_ADDRESS's, 7233)", parsePositive)
    .option('--ui-port <port>', 'Temporal Web UI port', parsePositive, 8233)
    .option('--db-file <file>', 'SQLite file that keeps the server state across restarts', defaultDevDbFile())
    .addHelpText(
      'after',
      '\nExamples:\n  relflow dev\n  relflow dev --port 7234 --ui-port 8234 --db-file /srv/second/temporal.db   # a second installation on this host',
    )
    .action(async (options: { port?: number; uiPort: number; dbFile: string }) => (await import('../actions/dev.js')).devCommand(options));
}
