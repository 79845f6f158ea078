import { statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../../config/errors';
import { connectClient } from '../connection';
import { htmlReport, markdownReport, releaseReport } from '../../release/report';
import { releaseState } from '../releases';
import { out } from '../options';

export async function reportAction(releaseId: string, options: { output?: string; format: 'markdown' | 'html' | 'json' }): Promise<void> {
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
}
