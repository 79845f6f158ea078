import { loadManifest } from '../../config/loadManifest';
import { UserError } from '../../config/errors';
import { connectClient } from '../connection';
import { createNightlySchedule, createReapSchedule, describeSchedule, listSchedules, scheduleAction, ScheduleVerb } from '../schedules';
import { loadManifestByReference } from '../../activities/manifestSource';
import { out } from '../options';

export interface ScheduleCreateOptions {
  cron: string;
  config: string;
  manifest?: string;
  manifestRef?: string;
  id?: string;
  timezone: string;
  taskQueue: string;
  grace: string;
}

export async function scheduleCreateAction(what: string, options: ScheduleCreateOptions): Promise<void> {
  if (what !== 'nightly' && what !== 'reap')
    throw new UserError(`schedule create: expected nightly or reap, got '${what}' (milestone, GA and patch releases are started by hand)`);
  if (options.manifest && what === 'reap') throw new UserError('schedule create reap: reads -c FILE (--manifest is for nightly)');
  const manifest = options.manifest
    ? (await loadManifestByReference(process.env, { name: options.manifest, ref: options.manifestRef })).manifest
    : loadManifest(options.config);
  const scheduleId = options.id ?? `${manifest.product}-${what}`;
  const settings = {
    scheduleId,
    cron: options.cron,
    configFile: options.config,
    manifestName: options.manifest,
    manifestRef: options.manifestRef,
    timezone: options.timezone,
    taskQueue: options.taskQueue,
    grace: options.grace,
  };
  const client = await connectClient();
  await (what === 'nightly' ? createNightlySchedule(client, settings) : createReapSchedule(client, settings));
  out(`schedule ${scheduleId} created: ${what} at "${options.cron}" (${options.timezone})`);
}

export async function scheduleListAction(options: { json?: boolean }): Promise<void> {
  const schedules = await listSchedules(await connectClient());
  out(
    options.json
      ? JSON.stringify(schedules, null, 2)
      : schedules
          .map(
            (entry) =>
              `${entry.scheduleId}  ${entry.paused ? 'paused' : 'active'}  next ${entry.nextRun ?? '-'}  last ${entry.recent ?? '-'}`,
          )
          .join('\n') || 'no schedules',
  );
}

export async function scheduleDescribeAction(scheduleId: string): Promise<void> {
  const description = await describeSchedule(await connectClient(), scheduleId);
  out(
    JSON.stringify(
      {
        scheduleId,
        paused: description.state.paused,
        note: description.state.note,
        spec: description.spec,
        nextRuns: description.info.nextActionTimes,
        recent: description.info.recentActions.map((action) => action.action.workflow.workflowId),
      },
      null,
      2,
    ),
  );
}

export async function scheduleVerbAction(scheduleId: string, verb: ScheduleVerb, options: { note?: string }): Promise<void> {
  await scheduleAction(await connectClient(), scheduleId, verb, options.note);
  out(`schedule ${scheduleId}: ${verb} done`);
}
