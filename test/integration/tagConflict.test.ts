import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createGitActivities } from '../../src/activities/git';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { buildReleasePlan } from '../../src/release/plan';
import { runCli } from '../support/cli';
import { createRemote, git } from '../support/gitRepos';
import { manifestOf, writeManifest } from '../support/manifests';
import { tempDir } from '../support/temporal';

describe('a release tag that was already released (GA 3.3 made plugin tag 1.3; now GA 3.4 with the plugins stream not bumped)', function () {
  let root: string;
  let core: string;
  let plugin: string;
  let config: string;
  const input = () => ({
    product: 'cloudify',
    versions: { core: '3.3', plugins: '1.3' },
    repositories: [
      { name: 'cloudify-manager', url: core },
      { name: 'cloudify-script-plugin', url: plugin, stream: 'plugins' as const },
    ],
    versionRules: [{ preset: 'setup.py' as const }],
  });

  before(function () {
    root = tempDir('tag-conflict');
    core = createRemote(root, { name: 'cloudify-manager', files: { 'setup.py': "setup(version='3.3')\n" } });
    plugin = createRemote(root, { name: 'cloudify-script-plugin', files: { 'setup.py': "setup(version='1.3')\n" } });
    // GA 3.3 tagged its version commit on 3.3-build, a branch the 3.4 build branch does not grow from.
    const work = join(root, 'work', 'cloudify-script-plugin');
    git(work, 'checkout', '-q', '-b', '3.3-build');
    git(work, 'commit', '--allow-empty', '-q', '-m', 'Release cloudify 3.3');
    git(work, 'push', '-q', plugin, '3.3-build');
    git(plugin, 'tag', '1.3', '3.3-build');
    git(work, 'checkout', '-q', 'master');
    config = writeManifest(root, input());
  });

  it('relflow plan warns: --version unlike versions.core, and the plugins version already released', function () {
    const result = runCli(['plan', 'ga', '--version', '3.4', '-c', config]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /warning: --version 3\.4 is for 3\.4, but versions\.core in .* is 3\.3/);
    assert.match(
      result.stdout,
      /warning: cloudify-script-plugin: tag '1\.3' already exists on .*: the plugins version 1\.3 was already released; pass --plugins-version 1\.4 or bump versions\.plugins in the manifest/,
    );
    assert.doesNotMatch(result.stdout, /warning: cloudify-manager/);
  });

  it('relflow start refuses before any push, with the cause and the fix', function () {
    const result = runCli(['start', 'ga', '--version', '3.4', '-c', config], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr.trim(),
      `relflow: repositories[1] (cloudify-script-plugin): tag '1.3' already exists on ${plugin}: the plugins version 1.3 was already released; pass --plugins-version 1.4 or bump versions.plugins in the manifest`,
    );
    assert.equal(existsSync(join(core, 'refs', 'heads', '3.4-build')), false, 'nothing pushed');
  });

  it('the tag activity names the cause instead of recommending to move a released tag', async function () {
    const manifest = manifestOf(input());
    const plan = buildReleasePlan(manifest, { kind: 'ga', version: '3.4' });
    const repository = plan.repositories[1];
    const activities = createGitActivities(new GitWorkspace(tempDir('tag-conflict-workspace')));
    const ref = { releaseId: plan.releaseId, repository };
    await activities.checkoutRepository(ref);
    const work = join(root, 'work', 'cloudify-script-plugin');
    git(work, 'commit', '--allow-empty', '-q', '-m', 'version commit stand-in');
    git(work, 'push', '-q', plugin, 'HEAD:refs/heads/3.4-build');
    const head = git(plugin, 'rev-parse', '3.4-build');
    await assert.rejects(
      activities.tagRepository({ ...ref, kind: 'ga', tag: '1.3', sha: head, message: 'Release', author: { name: 'a', email: 'a@b' } }),
      (error: unknown) => {
        assert.ok(error instanceof ApplicationFailure);
        assert.equal(error.type, 'GitTagConflict');
        assert.match(
          error.message,
          /it belongs to a release made before \(its commit is not on 3\.4-build\): the plugins version 1\.3 was already released; pass --plugins-version 1\.4/,
        );
        assert.doesNotMatch(error.message, /relflow retag/);
        return true;
      },
    );
  });

  it('a core patch and a patch milestone move the plugins forward: never the GA plugins version or a pre-release of it', function () {
    const dir = tempDir('patch-plugin');
    const core = createRemote(dir, {
      name: 'core',
      files: { 'setup.py': "setup(version='3.4.1')\n" },
      branches: { '3.4-patch2': { 'fix.txt': 'a core fix\n' } },
    });
    const changed = createRemote(dir, {
      name: 'changed-plugin',
      files: { 'setup.py': "setup(version='1.4')\n" },
      branches: { '3.4-patch2': { 'fix.txt': 'a plugin fix\n' } },
    });
    const same = createRemote(dir, { name: 'same-plugin', files: { 'setup.py': "setup(version='1.4')\n" } });
    git(same, 'branch', '3.4-patch2', 'master');
    git(changed, 'tag', '1.4', 'master');
    git(same, 'tag', '1.4', 'master');
    const file = writeManifest(dir, {
      product: 'cloudify',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [
        { name: 'core', url: core },
        { name: 'changed-plugin', url: changed, stream: 'plugins' },
        { name: 'same-plugin', url: same, stream: 'plugins' },
      ],
    });
    const result = runCli(['plan', 'patch', '--version', '3.4.2', '-c', file]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /plugins stream: 1\.4\.2 \(Python 1\.4\.2\): a patch moves the plugins forward/);
    assert.match(result.stdout, /changed-plugin {2}.*\n.*tag \(none: patch\)\n {2}version 1\.4\.2, Python 1\.4\.2/);
    assert.match(result.stdout, /\+setup\(version='1\.4\.2'\)/);
    const milestone = runCli(['plan', 'patch', '--version', '3.4.2m1', '-c', file, '--json']);
    assert.equal(milestone.status, 0, milestone.stderr);
    const planned = JSON.parse(milestone.stdout) as { repositories: { name: string; tag?: string; pythonVersion: string }[] };
    const plugin = planned.repositories.find((repository) => repository.name === 'same-plugin');
    assert.deepEqual([plugin?.tag, plugin?.pythonVersion], ['1.4.2m1', '1.4.2a1'], 'above the released 1.4, not 1.4a1');
    const explicit = runCli(['plan', 'patch', '--version', '3.4.2', '--plugins-version', '1.4.7', '-c', file]);
    assert.match(explicit.stdout, /plugins stream: 1\.4\.7/);
  });

  it('relflow start of a patch names each repository without its patch branch, with how to create it', function () {
    const dir = tempDir('patch-branch');
    const core = createRemote(dir, { name: 'core', files: { 'setup.py': "setup(version='3.4')\n" } });
    const file = writeManifest(dir, {
      product: 'cloudify',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [{ name: 'core', url: core }],
    });
    const result = runCli(['start', 'patch', '--version', '3.4.2', '-c', file], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(result.status, 2);
    assert.equal(
      result.stderr.trim(),
      `relflow: repositories[0] (core): branch '3.4-patch2' does not exist on ${core}; a patch is made on a branch you create first, e.g. from the GA tag: git push ${core} 3.4^{commit}:refs/heads/3.4-patch2`,
    );
  });
});
