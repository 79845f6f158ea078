import type { ReapResult } from '../activities/builders/ec2';
import type { ReapInput } from '../activities/reaper';
import { activity } from './proxies';

/** One sweep of the reaper: what a schedule runs every so often. */
export async function reapWorkflow(input: ReapInput): Promise<ReapResult> {
  return activity('reapBuildMachines', { summary: 'terminate build machines of releases that no longer run' })(input);
}
