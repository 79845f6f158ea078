import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { ReapResult } from '../activities/builders/ec2';
import type { ReapInput } from '../activities/reaper';
import { durationMs } from '../config/duration';
import { activity } from './proxies';

/** What is wrong with a sweep's input from any client (a schedule's, or a start by hand), or undefined. */
function reapInputProblem(input: ReapInput): string | undefined {
  if (typeof input !== 'object' || input === null || typeof input.ec2 !== 'object' || input.ec2 === null)
    return 'expected {ec2, installation, grace?, dryRun?}, as relflow schedule create reap makes it';
  if (
    input.installation !== undefined &&
    (typeof input.installation !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,200}$/.test(input.installation))
  )
    return "installation: the manifest's installation or product name";
  if (input.dryRun !== undefined && typeof input.dryRun !== 'boolean') return 'dryRun: true or false';
  if (input.grace !== undefined) {
    try {
      durationMs(input.grace);
    } catch {
      return `grace: a duration such as 15m (got ${String(input.grace).slice(0, 40)})`;
    }
  }
  return undefined;
}

/** One sweep of the reaper: what a schedule runs every so often. */
export async function reapWorkflow(input: ReapInput): Promise<ReapResult> {
  // Any client may start this workflow type: its input is checked as a release's is, before anything runs.
  const problem = patched('reap-input-checked') ? reapInputProblem(input) : undefined;
  if (problem) throw ApplicationFailure.nonRetryable(`reap refused: ${problem}`, 'InvalidReapInput');
  return activity('reapBuildMachines', { summary: 'terminate build machines of releases that no longer run' })(input);
}
