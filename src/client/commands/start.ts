import { RELEASE_KINDS, ReleaseKind } from '../../release/version';
import { connectClient } from '../connection';
import { markdownReport, releaseReport } from '../../release/report';
import { workerDefaults } from './worker';
import { prepareRelease, startPreparedRelease } from '../releases';
import { configOption, manifestOptions, out, parseKind } from '../options';
import type { Command } from 'commander';

/** start: the command of the CLI. */
export function registerStartCommand(program: Command): void {
  const defaults = workerDefaults();
  program
    .command('start')
    .description('start a release')
    .argument('<kind>', `release kind: ${RELEASE_KINDS.join(', ')}`, parseKind)
    .addOption(configOption())
    .addOption(manifestOptions()[0])
    .addOption(manifestOptions()[1])
    .option(
      '-v, --version <version>',
      'release version: 3.4 (ga), 3.4m5 (milestone), 3.4.2 or 3.4.2m1 (patch); nightlies default to versions.core',
    )
    .option('--plugins-version <version>', 'plugins version stream (default: versions.plugins of the manifest)')
    .option('--date <yyyymmdd>', 'date of a nightly (default: today, UTC)')
    .option('--task-queue <name>', 'task queue of the release workers (RELFLOW_TASK_QUEUE)', defaults.taskQueue)
    .option('--build-task-queue <name>', 'task queue of the build workers (RELFLOW_BUILD_TASK_QUEUE)', defaults.buildTaskQueue)
    .option('--json', 'print the started release as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  relflow start nightly -c relflow.yaml\n  relflow start milestone --version 3.4m5 -c relflow.yaml\n  relflow start ga --version 3.4 --manifest cloudify.yaml   # from the trusted manifest source',
    )
    .action(
      async (
        kind: ReleaseKind,
        options: {
          config: string;
          manifest?: string;
          manifestRef?: string;
          version?: string;
          pluginsVersion?: string;
          date?: string;
          taskQueue: string;
          buildTaskQueue: string;
          json?: boolean;
        },
      ) => {
        const prepared = await prepareRelease({
          kind,
          configFile: options.config,
          manifestName: options.manifest,
          manifestRef: options.manifestRef,
          version: options.version,
          pluginsVersion: options.pluginsVersion,
          date: options.date,
          taskQueue: options.taskQueue,
          buildTaskQueue: options.buildTaskQueue,
        });
        const { plan, started, state, continues } = await startPreparedRelease(await connectClient(), prepared);
        if (options.json) {
          out(
            JSON.stringify({
              releaseId: plan.releaseId,
              kind: plan.kind,
              releaseName: plan.releaseName,
              started,
              status: state?.status ?? 'running',
              continues: continues?.runId,
            }),
          );
        } else if (!started) {
          // Already released: what it released, at once, so a re-run of a finished release costs one lookup.
          out(
            `${plan.kind} release ${plan.releaseName} (${plan.releaseId}) already succeeded; nothing started (already released)\n` +
              `see it with: relflow status ${plan.releaseId}\n\n${state ? markdownReport(releaseReport(state)) : ''}`,
          );
        } else {
          const again = continues
            ? ` (run again after a run that ended ${continues.status} at ${continues.closed ?? continues.started}; what it pushed, stored and published is kept, not redone)`
            : '';
          out(
            `started ${plan.kind} release ${plan.releaseName}: ${plan.releaseId}${again}\nwatch it with: relflow status ${plan.releaseId}`,
          );
        }
      },
    );
}
