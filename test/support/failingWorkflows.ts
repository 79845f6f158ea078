import { defineQuery, setHandler } from '@temporalio/workflow';

/** A build whose release workflow has a bug: every workflow task fails (a plain Error is the task's, not the workflow's). */
export async function releaseWorkflow(): Promise<void> {
  setHandler(defineQuery<unknown>('releaseState'), () => ({}));
  throw new Error('a bug in this build of the release workflow');
}
