#!/usr/bin/env node
// Installs the tools relflow runs beside itself: the Temporal CLI (dev server)
// and a Python virtual environment with moto, pypiserver, twine and build.
// Both live in a cache outside the repository so fresh clones reuse them.
// Quick when everything is in place; writes .relflow/tools.json for the rest
// of relflow to read.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const TEMPORAL_CLI_VERSION = 'v1.5.1';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot = process.env.RELFLOW_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'relflow');
const quiet = process.argv.includes('--quiet');

function say(message) {
  if (!quiet) process.stdout.write(`[bootstrap] ${message}\n`);
}

class MissingTool extends Error {}

function which(command) {
  const result = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8', ...options });
  if (result.status !== 0) {
    const output = quiet ? `\n${result.stdout ?? ''}${result.stderr ?? ''}` : '';
    throw new Error(`${command} ${args.join(' ')} failed with exit code ${result.status}${output}`);
  }
  return result;
}

function temporalCli() {
  const configured = process.env.RELFLOW_TEMPORAL_CLI;
  if (configured) {
    if (!existsSync(configured)) {
      throw new MissingTool(`RELFLOW_TEMPORAL_CLI points at ${configured}, which does not exist`);
    }
    say(`Temporal CLI: ${configured} (from RELFLOW_TEMPORAL_CLI)`);
    return configured;
  }
  const binDir = join(cacheRoot, `temporal-${TEMPORAL_CLI_VERSION}`);
  const binary = join(binDir, 'temporal');
  if (existsSync(binary)) {
    say(`Temporal CLI: ${binary}`);
    return binary;
  }
  const go = which('go');
  if (!go) {
    throw new MissingTool(
      'the Temporal CLI is not built yet and `go` is not on PATH: install Go >= 1.25 (https://go.dev/doc/install, ' +
        'or your package manager), or set RELFLOW_TEMPORAL_CLI to an existing `temporal` binary',
    );
  }
  mkdirSync(binDir, { recursive: true });
  say(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go} into ${binDir} (first run only; a few minutes)`);
  const started = Date.now();
  run(go, ['install', '-v', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: binDir, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=mod`.trim() },
  });
  say(`Temporal CLI built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binary;
}

function pythonTools() {
  const requirements = join(projectRoot, 'scripts', 'requirements-tools.txt');
  const pins = readFileSync(requirements, 'utf8');
  const digest = createHash('sha256').update(pins).digest('hex').slice(0, 12);
  const venv = join(cacheRoot, `venv-${digest}`);
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, '.relflow-complete');
  if (existsSync(marker)) {
    say(`Python tools: ${venv}`);
    return venv;
  }
  const python3 = which('python3');
  if (!python3) {
    throw new MissingTool(
      '`python3` is not on PATH: install Python >= 3.9 with its venv module (e.g. `apt-get install python3 python3-venv`)',
    );
  }
  say(`creating the Python tools environment ${venv} (moto, pypiserver, twine, build)`);
  const started = Date.now();
  try {
    run(python3, ['-m', 'venv', venv]);
  } catch (error) {
    throw new MissingTool(
      `python3 could not create a virtual environment (${error.message}); install the venv module, e.g. \`apt-get install python3-venv\``,
    );
  }
  run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', '-r', requirements]);
  writeFileSync(marker, pins);
  say(`Python tools installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return venv;
}

function main() {
  const started = Date.now();
  const tools = { temporalCli: temporalCli(), pythonVenv: pythonTools() };
  const stateDir = join(projectRoot, '.relflow');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, 'tools.json'), `${JSON.stringify(tools, null, 2)}\n`);
  say(`tools ready in ${Date.now() - started} ms`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`relflow bootstrap: ${error.message}\n`);
  process.exit(error instanceof MissingTool ? 2 : 1);
}
