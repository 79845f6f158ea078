import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { createGitActivities } from '../../src/activities/git';
import { GitWorkspace, remoteRefs, WORKING_COPY_MAX_AGE_MS } from '../../src/activities/gitWorkspace';
import { buildReleasePlan, repositoryTemplateValues, ReleasePlan } from '../../src/release/plan';
import { ReleaseKind } from '../../src/release/version';
import { concreteRules } from '../../src/release/versionRules';
import { createRemote, git, remoteSha } from '../support/gitRepos';
import { manifestOf } from '../support/manifests';
import { tempDir } from '../support/temporal';

const author = { name: 'Release Bot', email: 'release@example.com' };

function setup(kind: ReleaseKind, version?: string) {
  const root = tempDir(`git-${kind}`);
  const remote = createRemote(root, {
    name: 'cloudify-rest-client',
    files: { 'setup.py': "setup(name='cloudify-rest-client', version='3.3')\n", 'README.md': 'rest client\n' },
    history: 3,
    branches: { '3.4-patch2': { 'fix.txt': 'a fix\n' } },
  });
  const manifest = manifestOf({
    product: 'cloudify',
    versions: { core: '3.5', plugins: '1.5' },
    repositories: [{ name: 'cloudify-rest-client', url: remote }],
    versionRules: [{ preset: 'setup.py', required: true }],
  });
  const plan = buildReleasePlan(manifest, { kind, version, date: '20261124' });
  const workspace = new GitWorkspace(join(root, 'workspace'));
  const activities = createGitActivities(workspace);
  const repository = plan.repositories[0];
  const ref = { releaseId: plan.releaseId, repository };
  const versionInput = (baseSha: string) => ({
    ...ref,
    baseSha,
    rules: concreteRules(manifest.versionRules),
    values: repositoryTemplateValues(plan, manifest, repository),
    author,
    message: plan.commitMessage,
  });
  return { root, remote, manifest, plan, workspace, activities, repository, ref, versionInput };
}

function commitCount(remote: string, ref: string): number {
  return Number(git(remote, 'rev-list', '--count', ref));
}

function fileAt(remote: string, ref: string, path: string): string {
  return git(remote, 'show', `${ref}:${path}`);
}

async function rejects(promise: Promise<unknown>, pattern: RegExp, type?: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    assert.match(error.message, pattern);
    if (type) assert.equal(error.type, type);
    assert.equal(error.nonRetryable, true);
    return true;
  });
}

describe('git stage activities on real repositories', function () {
  it("a push the remote's hook declines fails at once with the hook's own words, not git's 'failed to push some refs'", async function () {
    const { activities, ref, remote, versionInput } = setup('ga', '3.4');
    const hook = join(remote, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      '#!/bin/sh\necho "branch 3.4-build is protected: releases go through the release team"\necho "see https://wiki.example/releases"\nexit 1\n',
    );
    chmodSync(hook, 0o755);
    const { baseSha } = await activities.checkoutRepository(ref);
    await rejects(
      activities.versionRepository(versionInput(baseSha)),
      /^cloudify-rest-client: version commit on '[^']+': the remote refused the push \(pre-receive hook declined\): branch 3\.4-build is protected: releases go through the release team \/ see https:\/\/wiki\.example\/releases$/,
      'GitPushRefused',
    );
  });

  it("reads nothing of the worker's own git configuration: a planted ~/.gitconfig's hooks and URL rewrites never run", async function () {
    const { root, remote, repository, ref, versionInput } = setup('milestone', '3.4m5');
    // What an earlier build could leave in the worker's HOME: a hooks directory, and a rewrite of the remote to one of its own.
    const home = join(root, 'worker-home');
    const hooks = join(home, 'hooks');
    const diverted = join(root, 'diverted.git');
    mkdirSync(hooks, { recursive: true });
    git(root, 'init', '-q', '--bare', diverted);
    const planted = ['pre-push', 'reference-transaction', 'post-checkout', 'pre-commit', 'post-commit'];
    for (const hook of planted) {
      writeFileSync(join(hooks, hook), `#!/bin/sh\nenv > "${join(root, 'ran')}-${hook}"\n`);
      chmodSync(join(hooks, hook), 0o755);
    }
    writeFileSync(join(home, '.gitconfig'), `[core]\n\thooksPath = ${hooks}\n[url "${diverted}"]\n\tinsteadOf = ${remote}\n`);
    mkdirSync(join(home, '.config', 'git'), { recursive: true });
    writeFileSync(join(home, '.config', 'git', 'config'), `[core]\n\thooksPath = ${hooks}\n`);
    const activities = createGitActivities(
      new GitWorkspace(join(root, 'workspace'), { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config') }),
    );

    const { baseSha } = await activities.checkoutRepository(ref);
    assert.equal(baseSha, remoteSha(remote, 'master'), "cloned from the manifest's remote, not the rewrite");
    const { headSha } = await activities.versionRepository(versionInput(baseSha));
    await activities.tagRepository({ ...ref, tag: '3.4m5', sha: headSha, message: 'Release 3.4m5', author });

    assert.equal(remoteSha(remote, repository.buildBranch), headSha, "pushed to the manifest's remote");
    assert.equal(git(remote, 'rev-parse', 'refs/tags/3.4m5^{commit}'), headSha);
    assert.equal(git(diverted, 'for-each-ref'), '', 'nothing went to the rewritten URL');
    const ran = planted.filter((hook) => existsSync(`${join(root, 'ran')}-${hook}`));
    assert.deepEqual(ran, [], 'no hook of the worker HOME ran');
  });

  it('clones into a fresh workspace and fetches into a warm one, recording the base SHA', async function () {
    const { activities, ref, remote, root } = setup('ga', '3.4');
    const cold = await activities.checkoutRepository(ref);
    assert.deepEqual(cold, { baseSha: remoteSha(remote, 'master'), warm: false });
    // Someone pushes to master; the next release fetches it instead of cloning.
    const work = join(root, 'work', 'cloudify-rest-client');
    git(work, 'commit', '--allow-empty', '-q', '-m', 'later work');
    git(work, 'push', '-q', remote, 'master');
    const warm = await activities.checkoutRepository({ ...ref, releaseId: 'cloudify-3.5' });
    assert.deepEqual(warm, { baseSha: remoteSha(remote, 'master'), warm: true });
    assert.notEqual(warm.baseSha, cold.baseSha);
  });

  it('the checkout tries the version rules on the base commit: a rule that is not idempotent fails before anything is pushed', async function () {
    const { activities, ref, remote, versionInput } = setup('ga', '3.4');
    const refsBefore = git(remote, 'for-each-ref');
    const { values } = versionInput('');
    const greedy = concreteRules([
      {
        path: '.*',
        type: '^setup\\.py$',
        excluded: [],
        description: 'greedy version',
        match: "version='[^']*'",
        replace: '\\d+\\.\\d+',
        with: '{{ python_version }}.1',
        required: true,
      },
    ]);
    await rejects(
      activities.checkoutRepository({ ...ref, versionRules: { rules: greedy, values } }),
      /^version rules: cloudify-rest-client: version rules are not idempotent: setup\.py:1 \(greedy version\): 'setup\(name='cloudify-rest-client', version='3\.3'\)' becomes .* in the first pass and .* in a second/,
      'InvalidRelease',
    );
    // The presets pass, and the checkout pushed nothing either way.
    const checkedOut = await activities.checkoutRepository({ ...ref, versionRules: { rules: versionInput('').rules, values } });
    assert.equal(checkedOut.baseSha, remoteSha(remote, 'master'));
    assert.equal(git(remote, 'for-each-ref'), refsBefore);
  });

  const kinds: [ReleaseKind, string | undefined, string, string | undefined, string][] = [
    ['milestone', '3.4m5', '3.4m5-build', '3.4m5', '3.4a5'],
    ['ga', '3.4', '3.4-build', '3.4', '3.4'],
    ['patch', '3.4.2', '3.4-patch2', undefined, '3.4.2'],
    ['patch', '3.4.2m1', '3.4-patch2', '3.4.2m1', '3.4.2a1'],
    ['patch', '3.4.2rc1', '3.4-patch2', '3.4.2rc1', '3.4.2rc1'],
    ['nightly', undefined, 'master', 'nightly-20261124', '3.5.dev20261124'],
  ];
  for (const [kind, version, branch, tag, pythonVersion] of kinds) {
    it(`${kind}: version commit on '${branch}'${tag ? `, tag '${tag}'` : ', no tag'}, each activity run twice`, async function () {
      const { activities, ref, remote, repository, versionInput, plan } = setup(kind, version);
      assert.equal(repository.buildBranch, branch);
      assert.equal(repository.tag, tag);
      const { baseSha } = await activities.checkoutRepository(ref);
      const first = await activities.versionRepository(versionInput(baseSha));
      assert.deepEqual([first.committed, first.changedFiles], [true, ['setup.py']]);
      assert.equal(remoteSha(remote, branch), first.headSha);
      assert.equal(git(remote, 'rev-parse', `${first.headSha}^`), baseSha);
      assert.match(fileAt(remote, branch, 'setup.py'), new RegExp(`version='${pythonVersion.replace(/\./g, '\\.')}'`));
      assert.equal(git(remote, 'log', '-1', '--format=%an <%ae>|%s', branch), `Release Bot <release@example.com>|${plan.commitMessage}`);

      const second = await activities.versionRepository(versionInput(baseSha));
      // No second commit; the files are still those the release's version commit changed (not "0 files versioned").
      assert.deepEqual(second, { headSha: first.headSha, changedFiles: ['setup.py'], committed: false });
      assert.equal(remoteSha(remote, branch), first.headSha);

      if (tag) {
        const tagInput = { ...ref, tag, sha: first.headSha, message: `Release ${tag}`, author };
        assert.deepEqual(await activities.tagRepository(tagInput), { tag, sha: first.headSha, created: true });
        assert.deepEqual(await activities.tagRepository(tagInput), { tag, sha: first.headSha, created: false });
        assert.equal(git(remote, 'rev-parse', `refs/tags/${tag}^{commit}`), first.headSha);
        assert.equal(git(remote, 'cat-file', '-t', `refs/tags/${tag}`), 'tag', 'an annotated tag');
      }
      if (kind === 'patch') assert.ok(fileAt(remote, branch, 'fix.txt'), 'built from the patch branch');
    });
  }

  it('the version commit keeps file modes and the rest of the tree, names the configured author, and leaves the working copy alone', async function () {
    const { remote, workspace, activities, ref, versionInput, plan } = setup('milestone', '3.4m5');
    const work = join(remote, '..', '..', 'work', 'cloudify-rest-client');
    git(work, 'update-index', '--chmod=+x', 'setup.py');
    git(work, 'commit', '-q', '-m', 'setup.py is executable');
    git(work, 'push', '-q', remote, 'master');
    const { baseSha } = await activities.checkoutRepository(ref);
    const { headSha } = await activities.versionRepository(versionInput(baseSha));
    const branch = plan.repositories[0].buildBranch;
    assert.match(git(remote, 'ls-tree', branch, 'setup.py'), /^100755 blob /);
    assert.deepEqual(git(remote, 'diff', '--name-only', baseSha, branch).split('\n'), ['setup.py'], 'only the versioned file changed');
    assert.equal(
      git(remote, 'log', '-1', '--format=%an <%ae>|%cn <%ce>|%P', branch),
      `${author.name} <${author.email}>|${author.name} <${author.email}>|${baseSha}`,
    );
    const copy = workspace.workingCopyDir(ref.releaseId, 'cloudify-rest-client');
    assert.equal(git(copy, 'rev-parse', branch), headSha, 'the local build branch names the commit');
    assert.doesNotMatch(readFileSync(join(copy, '.git', 'config'), 'utf8'), /\[user\]/, 'no identity written into the working copy config');
  });

  it('versions files at any path (spaces, quotes, non-ASCII names) in one commit, with the messages git itself would store', async function () {
    const { remote, activities, ref, versionInput, plan } = setup('milestone', '3.4m5');
    const work = join(remote, '..', '..', 'work', 'cloudify-rest-client');
    const odd = '"plugins" é\\/dir with spaces/plugin.yaml';
    mkdirSync(join(work, dirname(odd)), { recursive: true });
    writeFileSync(join(work, odd), "plugins:\n  p:\n    package_version: '1.3'\n");
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'a plugin under an odd path');
    git(work, 'push', '-q', remote, 'master');
    const { baseSha } = await activities.checkoutRepository(ref);
    const rules = concreteRules([
      { preset: 'setup.py', required: true },
      { preset: 'plugin.yaml', required: false },
    ]);
    const { changedFiles, headSha, tagged } = await activities.versionRepository({ ...versionInput(baseSha), rules, tag: '3.4m5' });
    assert.deepEqual(changedFiles.sort(), [odd, 'setup.py'].sort());
    const branch = plan.repositories[0].buildBranch;
    assert.equal(git(remote, 'rev-parse', branch), headSha);
    assert.equal(
      execFileSync('git', ['cat-file', 'blob', `${branch}:${odd}`], { cwd: remote, encoding: 'utf8' }),
      "plugins:\n  p:\n    package_version: '1.5m5'\n",
    );
    assert.deepEqual(tagged, { tag: '3.4m5', sha: headSha, created: true });
    const message = versionInput(baseSha).message;
    assert.equal(git(remote, 'log', '-1', '--format=%B', branch), message, 'the commit message');
    assert.equal(git(remote, 'rev-parse', '3.4m5^{commit}'), headSha);
    assert.equal(git(remote, 'cat-file', 'tag', '3.4m5').split('\n\n').slice(1).join('\n\n'), message, 'the tag message');
    assert.match(git(remote, 'cat-file', 'tag', '3.4m5'), new RegExp(`^tagger ${author.name} <${author.email}> \\d+ \\+0000$`, 'm'));
  });

  it('keeps every byte outside the replaced span: a latin-1 file keeps its é, a CRLF file its line endings', async function () {
    const { remote, activities, ref, versionInput, plan } = setup('milestone', '3.4m5');
    const work = join(remote, '..', '..', 'work', 'cloudify-rest-client');
    const latin1 = (text: string) => Buffer.from(text, 'latin1');
    writeFileSync(
      join(work, 'setup.py'),
      latin1("# -*- coding: latin-1 -*-\n# Auteur: Ren\xe9 Dup\xe9\nsetup(name='cloudify-rest-client', version='3.3')\n"),
    );
    writeFileSync(join(work, 'VERSION'), '{\r\n  "version": "3.3.0",\r\n  "note": "caf\u00e9"\r\n}\r\n');
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'a latin-1 setup.py and a CRLF VERSION');
    git(work, 'push', '-q', remote, 'master');
    const { baseSha } = await activities.checkoutRepository(ref);
    const rules = concreteRules([
      { preset: 'setup.py', required: true },
      { preset: 'VERSION', required: true },
    ]);
    const { changedFiles } = await activities.versionRepository({ ...versionInput(baseSha), rules });
    assert.deepEqual(changedFiles, ['setup.py', 'VERSION']);
    const branch = plan.repositories[0].buildBranch;
    const blob = (path: string) => execFileSync('git', ['cat-file', 'blob', `${branch}:${path}`], { cwd: remote });
    assert.deepEqual(
      blob('setup.py'),
      latin1("# -*- coding: latin-1 -*-\n# Auteur: Ren\xe9 Dup\xe9\nsetup(name='cloudify-rest-client', version='3.4a5')\n"),
    );
    assert.deepEqual(blob('VERSION'), Buffer.from('{\r\n  "version": "3.4.0-m5",\r\n  "note": "caf\u00e9"\r\n}\r\n', 'utf8'));
  });

  it('a crash between commit and push: the re-run pushes exactly one version commit', async function () {
    const { activities, ref, remote, versionInput } = setup('ga', '3.4');
    const { baseSha } = await activities.checkoutRepository(ref);
    const before = commitCount(remote, 'master');
    const local = await activities.commitVersionChanges(versionInput(baseSha));
    assert.equal(local.changes.length, 1);
    assert.equal(existsSync(join(remote, 'refs', 'heads', '3.4-build')), false, 'nothing reached the remote');
    const result = await activities.versionRepository(versionInput(baseSha));
    assert.equal(result.committed, true);
    assert.equal(commitCount(remote, '3.4-build'), before + 1);
    assert.equal(
      git(remote, 'log', '--format=%s', '3.4-build')
        .split('\n')
        .filter((subject) => subject.startsWith('Release')).length,
      1,
    );
  });

  it('a crash after the push: the re-run finds the commit on the remote and makes none', async function () {
    const { activities, ref, remote, versionInput } = setup('milestone', '3.4m5');
    const { baseSha } = await activities.checkoutRepository(ref);
    const pushed = await activities.versionRepository(versionInput(baseSha));
    // A new worker with an empty workspace picks the activity up again.
    const fresh = createGitActivities(new GitWorkspace(tempDir('other-worker')));
    const again = await fresh.versionRepository(versionInput(baseSha));
    assert.deepEqual(again, { headSha: pushed.headSha, changedFiles: pushed.changedFiles, committed: false });
    assert.equal(remoteSha(remote, '3.4m5-build'), pushed.headSha);
  });

  it('a remote that moved is fetched and built on, never forced', async function () {
    const { activities, ref, remote, root, versionInput } = setup('patch', '3.4.2');
    const { baseSha } = await activities.checkoutRepository(ref);
    const work = join(root, 'work', 'cloudify-rest-client');
    git(work, 'checkout', '-q', '3.4-patch2');
    git(work, 'commit', '--allow-empty', '-q', '-m', 'a late fix');
    git(work, 'push', '-q', remote, '3.4-patch2');
    const moved = remoteSha(remote, '3.4-patch2');
    const result = await activities.versionRepository(versionInput(baseSha));
    assert.equal(git(remote, 'rev-parse', `${result.headSha}^`), moved, 'the late fix is kept under the version commit');
  });

  it('a build branch that does not contain the base is refused, naming both commits', async function () {
    const { activities, ref, remote, root, versionInput } = setup('ga', '3.4');
    const { baseSha } = await activities.checkoutRepository(ref);
    const work = join(root, 'work', 'cloudify-rest-client');
    git(work, 'checkout', '-q', '--orphan', 'stray');
    git(work, 'commit', '--allow-empty', '-q', '-m', 'unrelated');
    git(work, 'push', '-q', remote, 'stray:refs/heads/3.4-build');
    await rejects(
      activities.versionRepository(versionInput(baseSha)),
      /branch '3\.4-build' .* does not contain the release base/,
      'GitBranchDiverged',
    );
  });

  it('with the tag asked for, branch and tag go in one atomic push; a re-run finds both and pushes nothing', async function () {
    const { activities, ref, remote, versionInput } = setup('ga', '3.4');
    const { baseSha } = await activities.checkoutRepository(ref);
    const first = await activities.versionRepository({ ...versionInput(baseSha), tag: '3.4' });
    assert.deepEqual(first.tagged, { tag: '3.4', sha: first.headSha, created: true });
    assert.equal(remoteSha(remote, '3.4-build'), first.headSha);
    assert.equal(git(remote, 'rev-parse', '3.4^{commit}'), first.headSha);
    assert.equal(git(remote, 'cat-file', '-t', 'refs/tags/3.4'), 'tag', 'an annotated tag');
    const tagObject = git(remote, 'rev-parse', 'refs/tags/3.4');
    const again = await activities.versionRepository({ ...versionInput(baseSha), tag: '3.4' });
    assert.deepEqual(again, {
      headSha: first.headSha,
      changedFiles: first.changedFiles,
      committed: false,
      tagged: { tag: '3.4', sha: first.headSha, created: false },
    });
    assert.equal(git(remote, 'rev-parse', 'refs/tags/3.4'), tagObject, 'the tag object was not replaced');
  });

  it('with the tag asked for but taken by another commit, the branch goes alone and the tag stage names the conflict', async function () {
    const { activities, ref, remote, versionInput } = setup('ga', '3.4');
    const { baseSha } = await activities.checkoutRepository(ref);
    git(remote, 'tag', '3.4', baseSha);
    const result = await activities.versionRepository({ ...versionInput(baseSha), tag: '3.4' });
    assert.equal(result.tagged, undefined, 'left to the tag stage');
    assert.equal(result.committed, true);
    assert.equal(remoteSha(remote, '3.4-build'), result.headSha, 'the branch was pushed');
    assert.equal(git(remote, 'rev-parse', '3.4^{commit}'), baseSha, 'the tag was not touched');
    await rejects(
      activities.tagRepository({ ...ref, tag: '3.4', sha: result.headSha, message: 'Release 3.4', author }),
      /tag '3\.4' already exists on .* it is on an older commit of 3\.4-build/,
      'GitTagConflict',
    );
  });

  it('a tag at another commit is a non-retryable error that says where and how to retag', async function () {
    const { activities, ref, remote, versionInput } = setup('ga', '3.4');
    const { baseSha } = await activities.checkoutRepository(ref);
    git(remote, 'tag', '3.4', baseSha);
    const { headSha } = await activities.versionRepository(versionInput(baseSha));
    const tagInput = { ...ref, tag: '3.4', sha: headSha, message: 'Release 3.4', author };
    await rejects(
      activities.tagRepository(tagInput),
      new RegExp(
        `tag '3\\.4' already exists on .* at ${baseSha.slice(0, 12)}, not at ${headSha.slice(0, 12)}; it is on an older commit of 3\\.4-build: to move it .*relflow retag cloudify-3\\.4 --repository cloudify-rest-client`,
      ),
      'GitTagConflict',
    );
    assert.equal(git(remote, 'rev-parse', '3.4^{commit}'), baseSha, 'the tag was not touched');
    const moved = await activities.retagRepository({ ...ref, tag: '3.4', message: 'Release 3.4', author });
    assert.deepEqual(moved, { tag: '3.4', sha: headSha, created: true });
    assert.equal(git(remote, 'rev-parse', '3.4^{commit}'), headSha);
    assert.equal((await activities.tagRepository(tagInput)).created, false);
  });

  it('refuses a hostile branch name before anything runs', function () {
    const root = tempDir('hostile');
    const marker = join(root, 'pwned');
    const input = { product: 'cloudify', versions: { core: '3.5', plugins: '1.5' } };
    assert.throws(
      () => manifestOf({ ...input, repositories: [{ name: 'x', url: join(root, 'x.git'), branch: `--upload-pack=touch ${marker}` }] }),
      /repositories\[0\]\.branch: a git branch name/,
    );
    // A manifest that skipped validation (a workflow started by any client) meets the same rule in the plan.
    const hostile = manifestOf({ ...input, repositories: [{ name: 'x', url: join(root, 'x.git') }] });
    hostile.repositories[0].branch = `--upload-pack=touch ${marker}`;
    assert.throws(
      () => buildReleasePlan(hostile, { kind: 'ga', version: '3.4' }) as ReleasePlan,
      /'--upload-pack=touch .*' is not a valid git branch or tag name/,
    );
    const manifest = manifestOf({ ...input, repositories: [{ name: 'x', url: join(root, 'x.git') }] });
    assert.throws(
      () => buildReleasePlan(manifestOf({ ...manifest, naming: { branch: { ga: 'a b;rm -rf' } } }), { kind: 'ga', version: '3.4' }),
      /naming\.branch\.ga: 'a b;rm -rf' is not a valid git branch or tag name/,
    );
    assert.equal(existsSync(marker), false);
  });
});

describe('git transports', function () {
  it('never runs a command a remote URL names (ext::), whoever wrote the URL', async function () {
    const marker = join(tempDir('ext-transport'), 'ran');
    await assert.rejects(remoteRefs(`ext::sh -c touch% ${marker}`, [], process.env), /transport 'ext' not allowed/);
    assert.equal(existsSync(marker), false);
  });

  it("prunes a release's working copies when git has not touched them for two weeks; a recent release's stay", async function () {
    const { workspace, remote } = setup('nightly');
    await workspace.workingCopy('fresh-release', 'core', remote);
    await workspace.workingCopy('old-release', 'core', remote);
    const old = join(workspace.root, 'releases', 'old-release');
    const longAgo = new Date(Date.now() - WORKING_COPY_MAX_AGE_MS - 3600_000);
    for (const path of [old, join(old, 'core', '.git')]) utimesSync(path, longAgo, longAgo);
    assert.deepEqual(workspace.pruneWorkingCopies(), ['old-release']);
    assert.ok(!existsSync(old), 'the old working copies are gone');
    assert.ok(existsSync(join(workspace.root, 'releases', 'fresh-release', 'core', '.git')), 'a recent release keeps its own');
    const again = await workspace.workingCopy('old-release', 'core', remote);
    assert.ok(existsSync(join(again.dir, '.git')), 'a release that comes back clones again from the mirror');
  });
});
