import { InvalidArgumentError, Option } from 'commander';
import { isSafeName } from '../config/names';
import { durationMs } from '../config/duration';
import type { ReleaseState } from '../release/model';
import type { ReleaseTarget } from './releases';
import { isReleaseKind, RELEASE_KINDS, ReleaseKind } from '../release/version';
import { dateStamp, isCalendarDate } from '../release/plan';
import { CONTROL_CHARACTERS, MAX_BY } from '../release/decisions';
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

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;

/** What is wrong with one cron field (`*`, `5`, `1-5`, `*\/15`, `1,15`, `MON-FRI`), or undefined. */
function cronFieldProblem(text: string, field: (typeof CRON_FIELDS)[number]): string | undefined {
  const names: readonly string[] = 'names' in field ? field.names : [];
  const value = (part: string): number | undefined => {
    const named = names.indexOf(part.toUpperCase());
    if (named >= 0) return named + (field.name === 'month' ? 1 : 0);
    return /^\d{1,2}$/.test(part) ? Number(part) : undefined;
  };
  for (const item of text.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || (step !== undefined && !/^\d{1,2}$/.test(step)) || step === '0')
      return `${field.name} '${item}': a bad step`;
    if (range === '*') continue;
    const bounds = range.split('-');
    if (bounds.length > 2) return `${field.name} '${item}': expected a value or a range a-b`;
    const numbers = bounds.map(value);
    if (numbers.some((number) => number === undefined || number < field.min || number > field.max)) {
      return `${field.name} '${item}': expected ${field.min}-${field.max}${names.length ? ` or ${names[0]}-${names[names.length - 1]}` : ''}`;
    }
    if (numbers.length === 2 && (numbers[0] as number) > (numbers[1] as number)) return `${field.name} '${item}': the range runs backwards`;
  }
  return undefined;
}

/** A five-field cron expression (minute hour day month weekday), each field in its range, as Schedules take it. */
export function parseCron(value: string): string {
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new InvalidArgumentError('expected five cron fields (minute hour day month weekday), e.g. "0 2 * * *"');
  }
  for (const [index, field] of fields.entries()) {
    const problem = cronFieldProblem(field, CRON_FIELDS[index]);
    if (problem) throw new InvalidArgumentError(`${problem} (expected five cron fields, e.g. "0 2 * * *")`);
  }
  return value.trim();
}

/** A nightly's date: YYYYMMDD of a day that exists, from ten years before today (to rebuild an old one) to a day after. */
export function parseNightlyDate(value: string, today: Date = new Date()): string {
  if (!isCalendarDate(value)) throw new InvalidArgumentError('expected a date as YYYYMMDD, e.g. 20261124');
  const [year, month, day] = [today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()];
  const earliest = dateStamp(new Date(Date.UTC(year - 10, month, day)));
  const latest = dateStamp(new Date(Date.UTC(year, month, day + 1)));
  if (value < earliest || value > latest) {
    throw new InvalidArgumentError(`expected a day from ${earliest} to ${latest} (ten years back, a day ahead of today, UTC)`);
  }
  return value;
}

/** Who acts: a name of at most MAX_BY characters, printable (no control characters: they would forge lines in the report). */
export function parsePerson(value: string): string {
  if (!value) throw new InvalidArgumentError('expected a name, e.g. alice');
  if (value.length > MAX_BY) throw new InvalidArgumentError(`expected at most ${MAX_BY} characters`);
  if (CONTROL_CHARACTERS.test(value)) throw new InvalidArgumentError('expected a name without control characters');
  return value;
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
  new Option(
    '--manifest-ref <ref>',
    'a ref of RELFLOW_MANIFEST_REPO that RELFLOW_MANIFEST_REFS allows, or a commit on one (default RELFLOW_MANIFEST_REF, else main)',
  ),
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

/** The options plan and start share: the manifest (-c, or --manifest and --manifest-ref) and the release. */
export interface TargetOptions {
  config: string;
  manifest?: string;
  manifestRef?: string;
  version?: string;
  pluginsVersion?: string;
  date?: string;
}

export function releaseTargetOf(kind: ReleaseKind, options: TargetOptions): ReleaseTarget {
  return {
    kind,
    configFile: options.config,
    manifestName: options.manifest,
    manifestRef: options.manifestRef,
    version: options.version,
    pluginsVersion: options.pluginsVersion,
    date: options.date,
  };
}
