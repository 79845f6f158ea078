import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let version: string | undefined;

/** relflow's own version, from its package.json (the nearest one above this file, from src/ or lib/src/). */
export function relflowVersion(): string {
  if (version) return version;
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const found = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (found.name === 'relflow' && found.version) return (version = found.version);
  }
  return (version = 'unknown');
}
