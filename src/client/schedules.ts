import { Client, ScheduleDescription, ScheduleNotFoundError, ScheduleOptionsAction, ScheduleOverlapPolicy } from '@temporalio/client';
import { loadManifest } from '../config/loadManifest';
import { UserError } from '../config/errors';
import { RELEASE_TASK_QUEUE } from '../config/taskQueues';
import { reapWorkflow, releaseWorkflow } from '../workflows';
import { prepareRelease } from './releases';

export interface ScheduleOptions {
  scheduleId: string;
  cron: string;
  timezone?: string;
  taskQueue?: string;
}

export interface NightlyScheduleOptions extends ScheduleOptions {
  configFile: string;
  /** The nightly names its manifest in the trusted source: each run reads the current one. */
  manifestName?: string;
  manifestRef?: string;
  buildTaskQueue?: string;
}

/** Creates a schedule; one that exists already is a user error that says how to replace it. */
async function createSchedule(
  client: Client,
  options: ScheduleOptions & { action: ScheduleOptionsAction; memo?: Record<string, unknown> },
): Promise<string> {
  try {
    await client.schedule.create({
      scheduleId: options.scheduleId,
      spec: { cronExpressions: [options.cron], timezone: options.timezone },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
      action: options.action,
      memo: options.memo,
    });
  } catch (error) {
    if (error instanceof Error && /already (exists|running)/i.test(error.message)) {
      throw new UserError(
        `schedule '${options.scheduleId}' already exists; delete it first (relflow schedule delete ${options.scheduleId})`,
      );
    }
    throw error;
  }
  return options.scheduleId;
}

/**
 * A Temporal Schedule that starts the nightly; a nightly still running when the
 * next is due makes the next one skip. A manifest file (-c) is read now and
 * carried in the schedule (update the schedule after editing it); a manifest
 * named by reference (--manifest) is read by each run.
 */
export async function createNightlySchedule(client: Client, options: NightlyScheduleOptions): Promise<string> {
  const { request, plan } = await prepareRelease({
    kind: 'nightly',
    configFile: options.configFile,
    manifestName: options.manifestName,
    manifestRef: options.manifestRef,
    buildTaskQueue: options.buildTaskQueue,
  });
  // The schedule's runs take the date of their own start, and a manifest named by reference as it is when they start.
  const { date: _date, ...scheduled } = request;
  if (scheduled.manifestRef) scheduled.manifestRef = { name: scheduled.manifestRef.name, ref: scheduled.manifestRef.ref };
  return createSchedule(client, {
    ...options,
    action: {
      type: 'startWorkflow',
      workflowType: releaseWorkflow,
      workflowId: `${plan.product}-nightly`,
      taskQueue: options.taskQueue ?? RELEASE_TASK_QUEUE,
      args: [scheduled],
    },
    memo: options.manifestName ? { manifest: options.manifestName } : { manifestFile: options.configFile },
  });
}

/** A Temporal Schedule that runs the reaper over the manifest's EC2 settings. */
export async function createReapSchedule(
  client: Client,
  options: ScheduleOptions & { configFile: string; grace?: string },
): Promise<string> {
  const manifest = loadManifest(options.configFile);
  return createSchedule(client, {
    ...options,
    action: {
      type: 'startWorkflow',
      workflowType: reapWorkflow,
      workflowId: `${manifest.product}-reap`,
      taskQueue: options.taskQueue ?? RELEASE_TASK_QUEUE,
      args: [{ ec2: manifest.ec2, installation: manifest.installation ?? manifest.product, grace: options.grace }],
    },
    memo: { manifestFile: options.configFile },
  });
}

export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) throw new UserError(`no schedule '${scheduleId}' (see \`relflow schedule list\`)`);
    throw error;
  }
}

export type ScheduleVerb = 'pause' | 'unpause' | 'trigger' | 'delete';

export async function scheduleAction(client: Client, scheduleId: string, action: ScheduleVerb, note?: string): Promise<void> {
  await describeSchedule(client, scheduleId);
  const handle = client.schedule.getHandle(scheduleId);
  if (action === 'pause') await handle.pause(note);
  else if (action === 'unpause') await handle.unpause(note);
  else if (action === 'trigger') await handle.trigger(ScheduleOverlapPolicy.SKIP);
  else await handle.delete();
}

export async function listSchedules(client: Client): Promise<{ scheduleId: string; paused: boolean; nextRun?: string; recent?: string }[]> {
  const result = [];
  for await (const schedule of client.schedule.list()) {
    result.push({
      scheduleId: schedule.scheduleId,
      paused: schedule.state.paused,
      nextRun: schedule.info.nextActionTimes[0]?.toISOString(),
      recent: schedule.info.recentActions.at(-1)?.action.workflow.workflowId,
    });
  }
  return result;
}
