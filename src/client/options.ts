import { InvalidArgumentError, Option } from 'commander';
import { durationMs } from '../config/duration';
import type { ReleaseState } from '../release/model';
import { isReleaseKind, RELEASE_KINDS, ReleaseKind } from '../release/version';

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
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/.test(value) || value.includes('..')) {
    throw new InvalidArgumentError('expected a release ID such as cloudify-3.4 (see `relflow list`)');
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

/** 0 done (or still running), 1 failed, aborted, cancelled or a gate rejected, 3 waiting at a gate. */
export function exitCodeOf(state: ReleaseState): number {
  if (['failed', 'aborted', 'cancelled', 'blocked'].includes(state.status)) return EXIT.failed;
  if (state.status === 'waiting') return EXIT.waiting;
  if (state.gates.some((gate) => gate.status === 'rejected' || gate.status === 'timed-out')) return EXIT.failed;
  return EXIT.done;
}
