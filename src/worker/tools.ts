import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../release/errors';

/** The repository root (lib/src/worker -> root, or src/worker -> root). */
export const projectRoot = resolve(__dirname, __dirname.includes(`${join('lib', 'src')}`) ? '../../..' : '../..');

export interface Tools {
  temporalCli: string;
  pythonVenv: string;
}

function readTools(file: string): Tools | undefined {
  if (!existsSync(file)) return undefined;
  const tools = JSON.parse(readFileSync(file, 'utf8')) as Tools;
  return existsSync(tools.temporalCli) && existsSync(tools.pythonVenv) ? tools : undefined;
}

/**
 * The tools of scripts/bootstrap.mjs. Runs the bootstrap (with its progress on
 * the terminal) when they are missing; quick when all is in place.
 */
export function ensureTools(): Tools {
  const file = join(projectRoot, '.relflow', 'tools.json');
  const ready = process.env.RELFLOW_TEMPORAL_CLI ? undefined : readTools(file);
  if (ready) return ready;
  const result = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'bootstrap.mjs')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new UserError('the tools bootstrap failed (see above); fix it and run again');
  const tools = readTools(file);
  if (!tools) throw new UserError(`the tools bootstrap did not leave ${file}`);
  return tools;
}

export function pythonTool(tools: Tools, name: string): string {
  return join(tools.pythonVenv, 'bin', name);
}
