import { InvalidArgumentError, Option } from 'commander';
import { isSafeName } from '../config/names';
import { durationMs } from '../config/duration';
import type { ReleaseState } from '../release/model';
import { isReleaseKind, RELEASE_KINDS, ReleaseKind } from '../release/version';
import { BUILD_TASK_QUEUE, RELEASE_TASK_QUEUE } from '../config/taskQueues';
import { defaultWorkspaceDir } from '../config/project';

/** What every command shares: output, argument parsers, common options, exit codes. */

/** Exit codes scripts can rely on. */
export const EXIT = { done: 0, failed: 1, badInput: 2, waiting: 3 } as const;

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function parseKind(value: string): ReleaseKind {
  if (!isReleaseKind(value)) throw new InvalidArgumentError(`expected one of ${RELEASE_KINDS.join(', ')}`);
  return value;
}

/** A release ID as `relflow start` prints it (cloudify-3.4): never empty, never a path. */
export function parseReleaseId(value: string): string {
  if (!isSafeName(value)) {
    throw new InvalidArgumentError('expected a release ID such as cloudify-3.4 (see `relflow list`)');
  }
  return value;
}

/** A five-field cron expression (minute hour day month weekday), as Schedules take it. */
export function parseCron(value: string): string {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((field) => /^[0-9A-Za-z*,/-]+$/.test(field))) {
    throw new InvalidArgumentError('expected five cron fields (minute hour day month weekday), e.g. "0 2 * * *"');
  }
  return value.trim();
}

/** An IANA time zone such as Europe/Paris. */
export function parseTimeZone(value: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
  } catch {
    throw new InvalidArgumentError('expected an IANA time zone such as UTC or Europe/Paris');
  }
  return value;
}

export function parsePositive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number above 0');
  return number;
}

export function parseDuration(value: string): string {
  try {
    durationMs(value);
  } catch {
    throw new InvalidArgumentError('expected a duration such as 30s, 15m, 2h or 3d');
  }
  return value;
}

export const configOption = () => new Option('-c, --config <file>', 'the release manifest (YAML)').default('relflow.yaml');
/** A manifest named by reference: read from the trusted source by the workers, not sent with the request. */
export const manifestOptions = () => [
  new Option(
    '--manifest <name>',
    "the manifest's file in the workers' trusted source (RELFLOW_MANIFEST_DIR or RELFLOW_MANIFEST_REPO, set here too): the worker reads it, so a schedule releases with the current one; instead of -c",
  ),
  new Option('--manifest-ref <ref>', 'branch or tag of RELFLOW_MANIFEST_REPO (default RELFLOW_MANIFEST_REF, else main)'),
];

/** 0 done (or still running), 1 failed, aborted, cancelled or a gate rejected, 3 waiting at a gate. */
export function exitCodeOf(state: ReleaseState): number {
  if (['failed', 'aborted', 'cancelled', 'blocked'].includes(state.status)) return EXIT.failed;
  if (state.status === 'waiting') return EXIT.waiting;
  if (state.gates.some((gate) => gate.status === 'rejected' || gate.status === 'timed-out')) return EXIT.failed;
  return EXIT.done;
}

/** What a worker and the releases started from this environment use unless told otherwise. */
export const workerDefaults = () => ({
  taskQueue: process.env.RELFLOW_TASK_QUEUE ?? RELEASE_TASK_QUEUE,
  /** Where releases started from this environment run their builds. */
  buildTaskQueue: process.env.RELFLOW_BUILD_TASK_QUEUE ?? BUILD_TASK_QUEUE,
  workspace: defaultWorkspaceDir(),
  maxActivities: Number(process.env.RELFLOW_MAX_ACTIVITIES ?? 16),
});
