import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createNotifyActivities } from '../../src/activities/notify';
import { insideRoot, localDirectory } from '../../src/activities/paths';
import { directoryPath } from '../../src/activities/storage';
import { createSystemTestActivities } from '../../src/activities/systemTests';
import { validateManifest } from '../../src/config/loadManifest';
import { finishedNightly } from '../support/fakeActivities';
import { tempDir } from '../support/tempDirs';

function refused(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, pattern);
    return true;
  };
}

const state = finishedNightly();

describe('every manifest path stays in its root', function () {
  it('insideRoot refuses an absolute path, a .. segment and a link that points out', function () {
    const root = tempDir('paths');
    mkdirSync(join(root, 'pkg'));
    symlinkSync('/etc', join(root, 'escape'));
    assert.equal(insideRoot(root, 'pkg/sub', 'pypi.packageDir'), join(root, 'pkg', 'sub'));
    assert.throws(() => insideRoot(root, '/etc', 'pypi.packageDir'), refused(/^pypi\.packageDir: '\/etc' must be a relative path inside/));
    assert.throws(
      () => insideRoot(root, 'pkg/../../x', 'systemTests.junit'),
      refused(/^systemTests\.junit: 'pkg\/\.\.\/\.\.\/x' must be a relative path/),
    );
    assert.throws(() => insideRoot(root, 'escape/passwd', 'pypi.packageDir'), refused(/'escape\/passwd' leaves .* \(through a link\)/));
    // A link to something that does not exist yet: a write through it would create the target outside.
    const outside = join(tempDir('paths-outside'), 'planted.xml');
    symlinkSync(outside, join(root, 'pkg', 'junit.xml'));
    assert.throws(() => insideRoot(root, 'pkg/junit.xml', 'systemTests.junit'), refused(/'pkg\/junit\.xml' leaves .* \(through a link\)/));
    symlinkSync('../../nowhere/x', join(root, 'pkg', 'relative'));
    assert.throws(() => insideRoot(root, 'pkg/relative', 'systemTests.junit'), refused(/leaves .* \(through a link\)/));
    // Links that stay inside, dangling or not, are fine.
    symlinkSync('sub-to-be', join(root, 'pkg', 'inside'));
    assert.equal(insideRoot(root, 'pkg/inside', 'systemTests.junit'), join(root, 'pkg', 'inside'));
    symlinkSync('loop-b', join(root, 'loop-a'));
    symlinkSync('loop-a', join(root, 'loop-b'));
    assert.equal(
      insideRoot(root, 'loop-a', 'systemTests.junit'),
      join(root, 'loop-a'),
      'a loop stays where it is: nothing can be written through it',
    );
  });

  it('an outbox or a directory mirror outside the worker’s local roots is refused before anything is written', async function () {
    const allowed = tempDir('local-root');
    const env = { ...process.env, RELFLOW_LOCAL_ROOTS: allowed };
    assert.equal(localDirectory(env, join(allowed, 'outbox'), 'notifications.email.outbox'), join(allowed, 'outbox'));
    assert.throws(
      () => localDirectory(env, '/etc/cron.d', 'notifications.email.outbox'),
      refused(/^notifications\.email\.outbox: \/etc\/cron\.d is outside the worker's local roots \(.*\); set RELFLOW_LOCAL_ROOTS/),
    );
    symlinkSync('/etc', join(allowed, 'linked'));
    assert.throws(() => localDirectory(env, join(allowed, 'linked', 'cron.d'), 'f'), refused(/outside the worker's local roots/));

    const outside = join(tempDir('not-a-root'), 'outbox');
    await assert.rejects(
      createNotifyActivities(env).announceRelease({
        notifications: { email: { from: 'a@example.com', to: ['b@example.com'], outbox: outside }, webhooks: [] },
        state,
      }),
      refused(/notifications\.email\.outbox: .* is outside the worker's local roots/),
    );
    assert.equal(existsSync(outside), false, 'nothing written');

    // A key rendered with '..' (a layout of a hostile manifest) is refused even inside an allowed mirror.
    const mirror = { name: 'tarzan', path: join(allowed, 'mirror') };
    assert.equal(directoryPath(mirror, 'org/p/x.tgz', env), join(allowed, 'mirror', 'org', 'p', 'x.tgz'));
    assert.throws(
      () => directoryPath(mirror, '../../escape/x', env),
      refused(/^storage \(tarzan\): key: '\.\.\/\.\.\/escape\/x' must be a relative path inside/),
    );
    assert.throws(
      () => directoryPath({ name: 'tarzan', path: '/var/www' }, 'x', env),
      refused(/^storage \(tarzan\)\.path: \/var\/www is outside/),
    );
  });

  it('systemTests.junit and URLs with credentials are refused by validate; the activity confines junit too', async function () {
    const base = { product: 'p', versions: { core: '3.4', plugins: '1.4' }, repositories: [{ name: 'core', url: '/srv/core.git' }] };
    assert.throws(
      () => validateManifest({ ...base, systemTests: { command: 'true', junit: '/etc/passwd' } }, 'relflow.yaml'),
      /systemTests\.junit: a relative path inside the repository/,
    );
    assert.throws(
      () =>
        validateManifest({ ...base, ci: { provider: 'github', owner: 'o', apiUrl: 'https://bot:ghp_x@api.github.com' } }, 'relflow.yaml'),
      /ci\.apiUrl: credentials in the URL/,
    );
    assert.throws(
      () => validateManifest({ ...base, pypi: { repositoryUrl: 'https://__token__:pypi-x@upload.pypi.org/legacy/' } }, 'relflow.yaml'),
      /pypi\.repositoryUrl: credentials in the URL/,
    );
    await assert.rejects(
      createSystemTestActivities(process.env).runSystemTests({
        systemTests: { command: 'true', junit: '../../../etc/passwd', timeout: '1m' },
        releaseId: 'p-3.4',
        files: [],
      }),
      refused(/systemTests\.junit: '\.\.\/\.\.\/\.\.\/etc\/passwd' must be a relative path inside/),
    );
  });
});
