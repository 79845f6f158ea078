import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/config/project';
import { removeTempDirs, tempDir } from '../support/tempDirs';

/**
 * The CLI loads a command's implementation only when that command runs: `relflow --help`
 * loads no Temporal SDK, and the client commands never load the worker SDK, the AWS SDKs or
 * nodemailer (each costs CPU on every start, and the suite starts relflow ~110 times).
 */
const HEAVY = ['@temporalio/worker', '@aws-sdk/', 'nodemailer'];

/** The packages a node process loaded: the first path segment(s) after node_modules/. */
function packagesLoadedBy(args: string[], env: NodeJS.ProcessEnv = {}): string[] {
  const dir = tempDir('cli-loading-');
  const preload = join(dir, 'record.js');
  const record = join(dir, 'loaded.json');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  try {
    execFileSync(process.execPath, ['-r', preload, ...args], { cwd: projectRoot, env: { ...process.env, ...env }, stdio: 'pipe' });
  } catch {
    // A refused command (no server here) still shows what it loaded.
  }
  const files = JSON.parse(readFileSync(record, 'utf8')) as string[];
  const packages = new Set<string>();
  for (const file of files) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file);
    if (match) packages.add(match[1]);
  }
  return [...packages].sort();
}

const NO_CERTIFICATE = {
  TEMPORAL_TLS_CLIENT_CERT_PATH: '/nonexistent/client.pem',
  TEMPORAL_TLS_CLIENT_KEY_PATH: '/nonexistent/client.key',
};

const heavyIn = (packages: string[]) => packages.filter((name) => HEAVY.some((heavy) => name === heavy || name.startsWith(heavy)));

describe('the CLI loads only what the command it runs needs', function () {
  after(removeTempDirs);

  it('relflow --help loads commander alone, no Temporal SDK', function () {
    const packages = packagesLoadedBy([join(projectRoot, 'bin', 'relflow'), '--help']);
    assert.ok(packages.includes('commander'), `commander is loaded: ${packages.join(', ')}`);
    assert.deepEqual(
      packages.filter((name) => name.startsWith('@temporalio/')),
      [],
    );
    assert.deepEqual(heavyIn(packages), []);
  });

  it('relflow validate loads the manifest parser, not the worker or the AWS SDKs', function () {
    const packages = packagesLoadedBy([join(projectRoot, 'bin', 'relflow'), 'validate', '-c', 'relflow.example.yaml']);
    assert.ok(packages.includes('yaml'), `the YAML parser is loaded: ${packages.join(', ')}`);
    assert.deepEqual(heavyIn(packages), []);
  });

  it('relflow status loads the Temporal client, not the worker SDK, the AWS SDKs or nodemailer', function () {
    // A certificate that is not there: refused before connecting, with all the command needs loaded.
    const packages = packagesLoadedBy([join(projectRoot, 'bin', 'relflow'), 'status', 'cloudify-3.4'], NO_CERTIFICATE);
    assert.ok(packages.includes('@temporalio/client'), `the client SDK is loaded: ${packages.join(', ')}`);
    assert.deepEqual(heavyIn(packages), []);
  });

  it('relflow worker does load the worker SDK (the check above would see it)', function () {
    const packages = packagesLoadedBy([join(projectRoot, 'bin', 'relflow'), 'worker'], NO_CERTIFICATE);
    assert.ok(packages.includes('@temporalio/worker'), `the worker SDK is loaded: ${packages.join(', ')}`);
  });
});
