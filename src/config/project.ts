import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository root (lib/src/config -> root, or src/config -> root). */
export const projectRoot = resolve(__dirname, __dirname.includes(`${join('lib', 'src')}`) ? '../../..' : '../..');

let version: string | undefined;

/** relflow's own version, from its package.json. */
export function relflowVersion(): string {
  version ??= (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  return version;
}

/** Where a worker keeps its git mirrors and builds: RELFLOW_WORKSPACE, else .relflow/workspace. */
export function defaultWorkspaceDir(): string {
  return process.env.RELFLOW_WORKSPACE ?? join(projectRoot, '.relflow', 'workspace');
}

/** The embedded dev server's SQLite state: .relflow/temporal.db. */
export function defaultDevDbFile(): string {
  return join(projectRoot, '.relflow', 'temporal.db');
}
