import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../config/errors';
import { projectRoot } from '../config/project';

/** The repository root; it lives in config, where the activities can read it too. */
export { projectRoot };

export interface Tools {
  temporalCli: string;
  pythonVenv: string;
  /** Mailpit: the SMTP server (and REST API) of the demo and the tests. */
  mailpit: string;
}

function readTools(file: string): Tools | undefined {
  if (!existsSync(file)) return undefined;
  const tools = JSON.parse(readFileSync(file, 'utf8')) as Tools;
  return [tools.temporalCli, tools.pythonVenv, tools.mailpit].every((tool) => tool && existsSync(tool)) ? tools : undefined;
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

/** The Python a worker publishes with, and where that choice came from. */
export interface WorkerPython {
  python: string;
  source: string;
  /** Why it cannot publish (it does not run, or lacks build or twine); undefined when it can. */
  problem?: string;
  /** Versions of build and twine, when present. */
  versions: string;
}

/**
 * RELFLOW_PYTHON when set; else the Python of the bootstrapped tools
 * environment when it is there (as `relflow dev` uses); else python3 on PATH.
 * Checked for `build` and `twine`, which PyPI publishing needs.
 */
export function workerPython(env: NodeJS.ProcessEnv = process.env): WorkerPython {
  const tools = readTools(join(projectRoot, '.relflow', 'tools.json'));
  const [python, source] = env.RELFLOW_PYTHON
    ? [env.RELFLOW_PYTHON, 'RELFLOW_PYTHON']
    : tools
      ? [pythonTool(tools, 'python'), 'the relflow tools environment']
      : ['python3', 'PATH; no tools environment (npm run bootstrap) and no RELFLOW_PYTHON'];
  const probe = spawnSync(
    python,
    [
      '-c',
      'import importlib.metadata as m\nfor name in ("build", "twine"):\n    try: print(name, m.version(name))\n    except Exception: print(name, "-")',
    ],
    { encoding: 'utf8', env: { PATH: env.PATH ?? '' } },
  );
  if (probe.status !== 0) return { python, source, problem: 'does not run', versions: '' };
  const found = probe.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const missing = found.filter(([, version]) => version === '-').map(([name]) => name);
  return {
    python,
    source,
    problem: missing.length > 0 ? `lacks ${missing.join(' and ')}` : undefined,
    versions: found
      .filter(([, version]) => version !== '-')
      .map(([name, version]) => `${name} ${version}`)
      .join(', '),
  };
}
