import { Context } from '@temporalio/activity';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
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
  dryRun?: boolean;
}

export function createReaperActivities(env: NodeJS.ProcessEnv) {
  return {
    /** Terminates the build machines whose release no longer runs; asks Temporal through the worker's client. */
    async reapBuildMachines(input: ReapInput): Promise<ReapResult> {
      const client = Context.current().client;
      return reapBuildMachines(input.ec2, env, (releaseId) => isReleaseRunning(client, releaseId), input);
    },
  };
}
