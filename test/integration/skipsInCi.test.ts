import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/config/project';
import { tempDir } from '../support/tempDirs';

/** Mocha, as the layers run it, on a suite whose before hook skips as the Web UI test does without Chromium. */
function runSkippingSuite(env: NodeJS.ProcessEnv) {
  const dir = tempDir('skips-in-ci');
  const spec = join(dir, 'skipping.test.js');
  writeFileSync(
    spec,
    "describe('a browser test', function () {\n  before(function () { this.skip(); });\n  it('drives the Web UI', function () {});\n});\n" +
      "describe('a test that runs', function () {\n  it('passes', function () {});\n});\n",
  );
  return spawnSync(
    process.execPath,
    [
      join(projectRoot, 'node_modules', 'mocha', 'bin', 'mocha.js'),
      '--no-config',
      '--require',
      join(projectRoot, 'lib', 'test', 'skipsInCi.js'),
      spec,
    ],
    { encoding: 'utf8', env: { ...process.env, ...env } },
  );
}

describe('CI cannot be green by accident', function () {
  it('with CI=true a test skipped for a missing tool fails the run, naming it; without CI it is reported as pending', function () {
    const ci = runSkippingSuite({ CI: 'true' });
    assert.notEqual(ci.status, 0, ci.stdout);
    assert.match(ci.stdout, /CI=true, and 1 test\(s\) were skipped \(a missing tool\?\): a browser test drives the Web UI/);
    const local = runSkippingSuite({ CI: '' });
    assert.equal(local.status, 0, local.stdout + local.stderr);
    assert.match(local.stdout, /1 pending/);
  });
});
