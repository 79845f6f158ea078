import { RELEASE_KINDS, ReleaseKind } from '../../release/version';
import { configOption, manifestOptions, parseKind, parseNightlyDate } from '../options';
import type { Command } from 'commander';
import type { PlanCommandOptions } from '../actions/plan';

/** plan: the command of the CLI. */
export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('show every name and file change a release would make, without writing anything anywhere')
    .argument('<kind>', `release kind: ${RELEASE_KINDS.join(', ')}`, parseKind)
    .addOption(configOption())
    .addOption(manifestOptions()[0])
    .addOption(manifestOptions()[1])
    .option('-v, --version <version>', 'release version (as for start)')
    .option('--plugins-version <version>', 'plugins version stream')
    .option('--date <yyyymmdd>', 'date of a nightly, up to ten years back (default: today, UTC)', (value: string) =>
      parseNightlyDate(value),
    )
    .option('--json', 'print the plan as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  relflow plan milestone --version 3.4m5 -c relflow.yaml\n  relflow plan ga --version 3.4 --manifest cloudify.yaml   # from the trusted manifest source',
    )
    .action(async (kind: ReleaseKind, options: PlanCommandOptions) => (await import('../actions/plan.js')).planAction(kind, options));
}
