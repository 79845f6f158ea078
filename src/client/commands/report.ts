import { Option } from 'commander';
import { parseReleaseId } from '../options';
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
    .action(async (releaseId: string, options: { output?: string; format: 'markdown' | 'html' | 'json' }) =>
      (await import('../actions/report.js')).reportAction(releaseId, options),
    );
}
