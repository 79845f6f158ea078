import { Context } from '@temporalio/activity';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { durationMs } from '../config/duration';
import { Ec2Settings, reapBuildMachines, ReapResult } from './builders/ec2';

/** A release is its workflow: running, or not (finished, failed, terminated, unknown). */
export async function isReleaseRunning(client: Client, releaseId: string): Promise<boolean> {
  try {
    return (await client.workflow.getHandle(releaseId).describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

export interface ReapInput {
  ec2: Ec2Settings;
  /**
   * The manifest's installation (or product); the namespace is the reaper's own. Schedules made before it carry
   * none: they reap nothing.
   */
  installation?: string;
  /** Machines younger than this stay (default 15m). */
  grace?: string;
  dryRun?: boolean;
}

export function createReaperActivities(env: NodeJS.ProcessEnv) {
  return {
    /** Terminates the build machines whose release no longer runs; asks Temporal through the worker's client. */
    async reapBuildMachines(input: ReapInput): Promise<ReapResult> {
      const { client, info } = Context.current();
      // A schedule created before installations were tagged cannot tell this installation's machines from others': it touches none.
      const installation = input.installation ? `${info.workflowNamespace}/${input.installation}` : '(none: recreate the reap schedule)';
      return reapBuildMachines(input.ec2, env, (releaseId) => isReleaseRunning(client, releaseId), {
        installation,
        graceMs: input.grace ? durationMs(input.grace) : undefined,
        dryRun: input.dryRun,
      });
    },
  };
}
