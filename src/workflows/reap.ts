import type { ReapResult } from '../activities/builders/ec2';
import type { ReapInput } from '../activities/reaper';
import { activities } from './activities';

/** One sweep of the reaper: what a schedule runs every so often. */
export async function reapWorkflow(input: ReapInput): Promise<ReapResult> {
  return activities({ startToCloseTimeout: '10 minutes', summary: 'terminate build machines of releases that no longer run' }).reapBuildMachines(input);
}
