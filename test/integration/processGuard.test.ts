import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { createPypiActivities } from '../../src/activities/pypi';
import { sweepLeftoverBuilds } from '../../src/activities/builders/leftovers';
import { runProcess } from '../../src/activities/process';
import { tempDir } from '../support/temporal';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('commands a worker runs (builds, system tests, packaging) die with the worker', function () {
  it('a SIGKILLed worker leaves no command or grandchild running', async function () {
    const dir = tempDir('guard');
    const processModule = require.resolve('../../src/activities/process');
    // A stand-in worker: runs a build that starts a background grandchild, then is SIGKILLed.
    const script = `require(${JSON.stringify(processModule)}).runProcess(['sh', '-c', 'sleep 120 & echo $! > grandchild; echo $$ > child; wait'], { cwd: ${JSON.stringify(dir)}, env: process.env, timeoutMs: 120000 })`;
    const worker = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    await until(() => existsSync(join(dir, 'grandchild')) && existsSync(join(dir, 'child')), 'the build to start');
    const pids = ['child', 'grandchild'].map((file) => Number(readFileSync(join(dir, file), 'utf8')));
    assert.ok(pids.every(alive));
    worker.kill('SIGKILL');
    await until(() => !pids.some(alive), `processes ${pids.join(', ')} to end after the worker died`);
  });

  it('reports the exit code and output, and a command that cannot start as an error', async function () {
    const dir = tempDir('guard');
    const result = await runProcess(['sh', '-c', 'echo built; exit 3'], { cwd: dir, env: process.env, timeoutMs: 10_000 });
    assert.deepEqual([result.code, result.output.trim()], [3, 'built']);
    await assert.rejects(runProcess(['relflow-no-such-command'], { cwd: dir, env: process.env, timeoutMs: 10_000 }), /ENOENT/);
  });
});

describe('build directories of a worker that died', function () {
  it('are removed by the next worker on that workspace; a live process keeps its own', async function () {
    const root = tempDir('leftovers');
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    const owned = (release: string, artifact: string, pid: string) => {
      const dir = join(root, release, artifact);
      mkdirSync(join(dir, 'src'), { recursive: true });
      writeFileSync(join(dir, '.relflow-owner'), `${pid}\n`);
      return dir;
    };
    const orphan = owned('chaos-3.4', 'cloudify-ui', dead);
    const live = owned('chaos-3.4', 'bundle', String(process.pid));
    const older = join(root, 'chaos-3.3', 'ui');
    mkdirSync(older, { recursive: true });
    assert.deepEqual(sweepLeftoverBuilds(root), [orphan]);
    assert.deepEqual([existsSync(orphan), existsSync(live), existsSync(older)], [false, true, true]);
    assert.deepEqual(sweepLeftoverBuilds(join(root, 'none')), []);
  });
});

describe('temporary directories of a worker killed during twine', function () {
  it('are removed when the next worker starts its PyPI activities; a live process keeps its own, an unnamed one is left alone', function () {
    const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    const made = (name: string) => {
      const dir = join(tmpdir(), name);
      mkdirSync(join(dir, 'dist'), { recursive: true });
      return dir;
    };
    const orphan = made(`relflow-pypi-${dead}-cloudify-rest-client-x1`);
    const live = made(`relflow-pypi-${process.pid}-cloudify-rest-client-x2`);
    const unnamed = made(`relflow-pypi-cloudify-rest-client-x3-${process.pid}`);
    try {
      createPypiActivities(new GitWorkspace(tempDir('pypi-sweep')), 'python3', process.env);
      assert.deepEqual([existsSync(orphan), existsSync(live), existsSync(unnamed)], [false, true, true]);
    } finally {
      for (const dir of [orphan, live, unnamed]) rmSync(dir, { recursive: true, force: true });
    }
  });
});
