#!/usr/bin/env node
// Runs just the tests you name, after an incremental build: `npm run test:one -- <test> [...] [--grep <pattern>]`.
// A test is a file (test/unit/version.test.ts, lib/test/unit/version.test.js) or its name (version).
// Unit tests alone start nothing; any other layer gets the suite's Temporal dev server and tools.
// Options after the tests go to mocha as they are (--grep, --bail, --reporter dot, ...).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = ['unit', 'integration', 'system'];
const HELP = `usage: npm run test:one -- <test> [<test> ...] [mocha options]

  <test>   a test file (test/unit/version.test.ts or lib/test/unit/version.test.js) or its name (version)
  --grep <pattern>  with no test named: the tests of every layer whose title matches

Unit tests alone run without a server (seconds); any integration or system test starts the
suite's Temporal dev server and the bootstrapped tools first.

  npm run test:one -- version                      one file
  npm run test:one -- storage publishedFiles       two files
  npm run test:one -- workflow --grep 'a gate'     the matching tests of one file
  npm run test:one -- --grep 'patch'               the matching tests of the whole suite`;

function fail(message) {
  process.stderr.write(`test:one: ${message}\n`);
  process.exit(2);
}

function testFileOf(argument) {
  const name = basename(argument).replace(/\.test\.(ts|js)$/, '');
  for (const layer of LAYERS) {
    if (existsSync(join(projectRoot, 'test', layer, `${name}.test.ts`)))
      return { layer, file: join('lib', 'test', layer, `${name}.test.js`) };
  }
  const known = LAYERS.flatMap((layer) =>
    readdirSync(join(projectRoot, 'test', layer))
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => file.replace(/\.test\.ts$/, '')),
  );
  const near = known.filter((candidate) => candidate.toLowerCase().includes(name.toLowerCase()));
  fail(`no test '${argument}' in test/${LAYERS.join(', test/')}${near.length ? `; did you mean ${near.join(', ')}?` : ''}`);
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h') || args.length === 0) {
  process.stdout.write(`${HELP}\n`);
  process.exit(args.length === 0 ? 2 : 0);
}
const firstOption = args.findIndex((argument) => argument.startsWith('-'));
const names = firstOption === -1 ? args : args.slice(0, firstOption);
const mochaOptions = firstOption === -1 ? [] : args.slice(firstOption);
const tests = names.map(testFileOf);
const unitOnly = tests.length > 0 && tests.every((test) => test.layer === 'unit');

const run = (command, commandArgs) => {
  const result = spawnSync(command, commandArgs, { cwd: projectRoot, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
};
run(process.execPath, [join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
if (!unitOnly) run(process.execPath, [join(projectRoot, 'scripts', 'bootstrap.mjs'), '--quiet']);
const spec = tests.length > 0 ? tests.map((test) => test.file) : LAYERS.map((layer) => `lib/test/${layer}/**/*.test.js`);
run(process.execPath, [
  join(projectRoot, 'node_modules', 'mocha', 'bin', 'mocha.js'),
  '--no-config',
  '--require',
  unitOnly ? 'lib/test/unitHooks.js' : 'lib/test/hooks.js',
  '--require',
  'lib/test/skipsInCi.js',
  '--timeout',
  unitOnly ? '20000' : '180000',
  '--exit',
  ...mochaOptions,
  ...spec.map((file) => relative(projectRoot, resolve(projectRoot, file))),
]);
