import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../config/errors';
import { Option } from 'commander';
import { connectClient } from '../connection';
import { htmlReport, markdownReport, releaseReport } from '../../release/report';
import { releaseState } from '../releases';
import { out, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** report: the command of the CLI. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('the release as Markdown: stages, repositories with SHAs and tags, artifacts with URLs and sha256, results, decisions')
    .argument('<release-id>', 'the release', parseReleaseId)
    .option('-o, --output <file>', 'write to a file')
    .addOption(new Option('--format <format>', 'markdown, html or json').choices(['markdown', 'html', 'json']).default('markdown'))
    .addHelpText(
      'after',
      '\nExamples:\n  relflow report cloudify-3.4 -o release-3.4.md\n  relflow report cloudify-3.4 --format html -o release-3.4.html',
    )
    .action(async (releaseId: string, options: { output?: string; format: 'markdown' | 'html' | 'json' }) => {
      // Before asking the server: a report that cannot be written is not worth fetching.
      if (options.output && !statSync(dirname(resolve(options.output)), { throwIfNoEntry: false })?.isDirectory()) {
        throw new UserError(`-o ${options.output}: directory ${dirname(options.output)} does not exist`);
      }
      const state = await releaseState(await connectClient(), releaseId);
      const report =
        options.format === 'html'
          ? htmlReport(releaseReport(state))
          : options.format === 'json'
            ? JSON.stringify(state, null, 2)
            : markdownReport(releaseReport(state));
      if (options.output) {
        try {
          writeFileSync(options.output, report);
        } catch (error) {
          throw new UserError(`-o ${options.output}: cannot write the report (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
        }
      } else out(report);
    });
}
