import { UserError } from './errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `30m`, `12h`, `3d` in milliseconds. */
export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) throw new UserError(`invalid duration '${text}': expected e.g. 90s, 30m, 12h or 3d`);
  return Number(match[1]) * UNIT_MS[match[2]];
}
