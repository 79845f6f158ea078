import { connectClient } from '../connection';
import { listReleases } from '../releases';
import { out } from '../options';
import type { Command } from 'commander';

/** list: the command of the CLI. */
export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list releases, filtered by their search attributes; a release started again shows each run')
    .option('--kind <kind>', 'nightly, milestone, ga or patch')
    .option('--version <version>', 'release name, e.g. 3.4m5')
    .option('--status <status>', 'running, waiting, blocked, succeeded, failed, aborted, cancelled')
    .option('--product <name>', 'product')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  relflow list --kind ga --status succeeded')
    .action(async (options: { kind?: string; version?: string; status?: string; product?: string; json?: boolean }) => {
      const releases = await listReleases(await connectClient(), options);
      if (options.json) out(JSON.stringify(releases, null, 2));
      else
        out(
          releases.length === 0
            ? 'no releases'
            : releases
                .map(
                  (release) =>
                    `${release.releaseId}  ${release.kind}  ${release.version}  ${release.status}  ${release.stage}  ${release.started}  run ${release.runId}`,
                )
                .join('\n'),
        );
    });
}
