import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { stringify } from 'yaml';
import { createManifestActivities, loadManifestByReference } from '../../src/activities/manifestSource';
import { createPreflightActivities } from '../../src/activities/preflight';
import type { ManifestInput } from '../../src/config/manifest';
import type { ReleaseState } from '../../src/release/model';
import { buildReleasePlan } from '../../src/release/plan';
import { releaseWorkflow } from '../../src/workflows';
import { operatorSignal, releaseStateQuery } from '../../src/workflows/api';
import { operateRelease } from '../../src/client/releases';
import { errorMessage } from '../../src/workflows/tracker';
import { runCliAsync } from '../support/cli';
import { fakeActivities } from '../support/fakeActivities';
import { createRemote, git } from '../support/gitRepos';
import { manifestOf } from '../support/manifests';
import { tempDir, testClient, testServer, uniqueTaskQueue, withWorkers } from '../support/temporal';

async function finished(handle: { query: (q: typeof releaseStateQuery) => Promise<ReleaseState> }): Promise<ReleaseState> {
  for (let waited = 0; waited < 60_000; waited += 200) {
    const state = await handle.query(releaseStateQuery);
    if (['succeeded', 'failed', 'blocked'].includes(state.status)) return state;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('timed out');
}

describe('the manifest by reference: read by a worker from where the workers trust manifests to come from', function () {
  this.timeout(120_000);
  let root: string;
  let config: string;
  let product: ManifestInput;
  let env: NodeJS.ProcessEnv;

  before(function () {
    root = tempDir('manifest-source');
    const core = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.4')\n" } });
    product = {
      product: 'configured',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: core }],
      ci: { provider: 'none' },
    };
    config = createRemote(root, { name: 'release-config', files: { 'cloudify.yaml': stringify(product) } });
    env = { ...process.env, RELFLOW_MANIFEST_REPO: config, RELFLOW_MANIFEST_REF: 'master' };
  });

  function pushConfig(change: Partial<ManifestInput>): string {
    const work = join(root, 'work', 'release-config');
    writeFileSync(join(work, 'cloudify.yaml'), stringify({ ...product, ...change }));
    git(work, 'commit', '-q', '-am', 'config change');
    git(work, 'push', '-q', config, 'master');
    return git(work, 'rev-parse', 'HEAD').trim();
  }

  it('relflow start --manifest: the worker reads it from the configuration repository and records its commit and sha256', async function () {
    const taskQueue = uniqueTaskQueue('by-ref');
    const { activities } = fakeActivities({ loadReleaseManifest: createManifestActivities(env).loadReleaseManifest as never });
    await withWorkers({ taskQueue, activities }, async () => {
      const head = git(join(root, 'work', 'release-config'), 'rev-parse', 'HEAD').trim();
      const started = await runCliAsync(
        ['start', 'nightly', '--manifest', 'cloudify.yaml', '--date', '20261128', '--task-queue', taskQueue, '--json'],
        { ...env, TEMPORAL_ADDRESS: testServer().address },
      );
      assert.equal(started.status, 0, started.stderr);
      const { releaseId } = JSON.parse(started.stdout) as { releaseId: string };
      const handle = testClient().workflow.getHandle(releaseId);
      const request = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.input;
      assert.doesNotMatch(JSON.stringify(request), /"repositories"/, 'the manifest itself is not in the request');
      const state = await finished(handle);
      assert.equal(state.status, 'succeeded', JSON.stringify(state.blocked));
      assert.equal(state.product, 'configured');
      assert.equal(state.manifest?.commit, head);
      assert.match(state.manifest?.sha256 ?? '', /^[0-9a-f]{64}$/);

      // A schedule's run names no sha256: it releases with the manifest as it is now.
      const changed = pushConfig({ product: 'reconfigured' });
      const scheduled = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `configured-scheduled-${Date.now()}`,
        args: [{ manifestRef: { name: 'cloudify.yaml' }, kind: 'nightly', date: '20261129', buildTaskQueue: `${taskQueue}-builds` }],
      });
      const current = await finished(scheduled);
      assert.equal(current.manifest?.commit, changed);
      assert.notEqual(current.manifest?.sha256, state.manifest?.sha256);
      assert.equal(current.product, 'reconfigured', 'the current manifest was used');

      // A start pinned to what its starter read refuses a manifest that changed since.
      const pinned = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `configured-pinned-${Date.now()}`,
        args: [{ manifestRef: { name: 'cloudify.yaml', sha256: state.manifest?.sha256 }, kind: 'nightly', date: '20261130' }],
      });
      await assert.rejects(pinned.result(), (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError);
        assert.match(errorMessage(error), /manifest cloudify\.yaml: it changed since the release was started .*; start it again/);
        return true;
      });
      const hostile = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `configured-hostile-${Date.now()}`,
        args: [{ manifestRef: { name: '../../etc/passwd.yaml' }, kind: 'nightly' }],
      });
      await assert.rejects(hostile.result(), (error: unknown) => {
        assert.match(errorMessage(error), /manifestRef\.name '\.\.\/\.\.\/etc\/passwd\.yaml': expected a relative path/);
        return true;
      });
    });
  });

  it('a directory source; names that leave it, refs it cannot have, and invalid manifests are refused', async function () {
    const dir = join(root, 'manifests');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cloudify.yaml'), stringify(product));
    writeFileSync(join(dir, 'broken.yaml'), stringify({ ...product, versions: { core: 'three' } }));
    const local = { ...process.env, RELFLOW_MANIFEST_DIR: dir };
    const loaded = await loadManifestByReference(local, { name: 'cloudify.yaml' });
    assert.equal(loaded.manifest.product, 'configured');
    assert.equal(loaded.source.commit, undefined);
    await assert.rejects(
      loadManifestByReference(local, { name: '../secrets.yaml' }),
      /manifest: '\.\.\/secrets\.yaml' must be a relative path inside/,
    );
    await assert.rejects(
      loadManifestByReference(local, { name: 'cloudify.yaml', ref: 'main' }),
      /a ref \(main\) needs RELFLOW_MANIFEST_REPO/,
    );
    await assert.rejects(loadManifestByReference(local, { name: 'broken.yaml' }), /broken\.yaml: versions\.core/);
    await assert.rejects(loadManifestByReference(process.env, { name: 'cloudify.yaml' }), /no trusted manifest source is configured here/);
    await assert.rejects(loadManifestByReference(env, { name: 'missing.yaml' }), /manifest missing\.yaml: no such file at master/);
  });

  it('--manifest-ref takes the reviewed refs only (RELFLOW_MANIFEST_REFS), or a commit on one; RELFLOW_MANIFEST_SIGNERS wants signed commits', async function () {
    const remote = createRemote(root, { name: 'reviewed-config', files: { 'cloudify.yaml': stringify(product) } });
    const work = join(root, 'work', 'reviewed-config');
    const head = () => git(work, 'rev-parse', 'HEAD').trim();
    const reviewed = head();
    // An unreviewed proposal: a pull request's head and a branch of its own, then gone from the history of master.
    writeFileSync(join(work, 'cloudify.yaml'), stringify({ ...product, product: 'proposed' }));
    git(work, 'commit', '-q', '-am', 'proposal');
    const proposal = head();
    git(work, 'push', '-q', remote, 'HEAD:refs/pull/7/head', 'HEAD:refs/heads/feature');
    git(work, 'reset', '-q', '--hard', reviewed);
    git(work, 'tag', 'v1');
    git(work, 'push', '-q', remote, 'v1');
    const source = { ...process.env, RELFLOW_MANIFEST_REPO: remote, RELFLOW_MANIFEST_REF: 'master' };
    const load = (ref: string | undefined, extra: NodeJS.ProcessEnv = {}) =>
      loadManifestByReference({ ...source, ...extra }, { name: 'cloudify.yaml', ...(ref ? { ref } : {}) });

    assert.equal((await load(undefined)).source.commit, reviewed);
    for (const ref of ['refs/pull/7/head', 'feature', 'v1']) {
      await assert.rejects(
        load(ref),
        /ref '.*' is not one the workers take manifests from; allowed: master \(RELFLOW_MANIFEST_REFS\)/,
        ref,
      );
    }
    await assert.rejects(
      load(proposal),
      new RegExp(`commit ${proposal.slice(0, 12)} is on none of the refs the workers take manifests from \\(master\\)`),
    );
    const pinned = await load(reviewed);
    assert.deepEqual([pinned.source.commit, pinned.manifest.product], [reviewed, 'configured']);
    const tagged = await load('refs/tags/v1', { RELFLOW_MANIFEST_REFS: 'master, refs/tags/v1' });
    assert.equal(tagged.source.commit, reviewed);
    await assert.rejects(load('--upload-pack=x', { RELFLOW_MANIFEST_REFS: 'master' }), /is not a branch or tag name/);

    // Signed commits only: a commit signed by an allowed signer passes, an unsigned one is refused.
    const key = join(root, 'config-signer');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', key]);
    const signers = join(root, 'config-signers');
    writeFileSync(signers, `alice@example.com ${readFileSync(`${key}.pub`, 'utf8')}`);
    writeFileSync(join(work, 'cloudify.yaml'), stringify({ ...product, product: 'signed' }));
    git(work, '-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`, 'commit', '-q', '-S', '-am', 'signed change');
    git(work, 'push', '-q', remote, 'master');
    const signed = await load(undefined, { RELFLOW_MANIFEST_SIGNERS: signers });
    assert.deepEqual([signed.source.commit, signed.manifest.product], [head(), 'signed']);
    await assert.rejects(
      load(reviewed, { RELFLOW_MANIFEST_SIGNERS: signers }),
      new RegExp(
        `commit ${reviewed.slice(0, 12)} carries no good signature of a signer in .*config-signers \\(RELFLOW_MANIFEST_SIGNERS\\)`,
      ),
    );
  });

  it('a link, a directory, an oversized file and bytes that are not UTF-8 are refused by what they are, before they are read', async function () {
    const remote = createRemote(root, { name: 'shaped-config', files: { 'cloudify.yaml': stringify(product) } });
    const work = join(root, 'work', 'shaped-config');
    execFileSync('ln', ['-s', '/etc/passwd', join(work, 'linked.yaml')]);
    mkdirSync(join(work, 'folder.yaml'));
    writeFileSync(join(work, 'folder.yaml', 'inner.yaml'), 'x: 1\n');
    // A 2 MiB manifest: a comment line of a million characters, twice; refused by its size in the tree, never shown.
    writeFileSync(join(work, 'huge.yaml'), `${stringify(product)}#${'x'.repeat(1 << 20)}\n#${'x'.repeat(1 << 20)}\n`);
    const latin1 = stringify({ ...product, ci: { provider: 'none' } }).replace('product: configured', 'product: configured\n# caf\u00e9');
    writeFileSync(join(work, 'latin1.yaml'), Buffer.from(latin1, 'latin1'));
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', 'shapes');
    git(work, 'push', '-q', remote, 'master');
    const source = { ...process.env, RELFLOW_MANIFEST_REPO: remote, RELFLOW_MANIFEST_REF: 'master' };
    const load = (name: string) => loadManifestByReference(source, { name });
    await assert.rejects(load('linked.yaml'), /^ApplicationFailure: manifest linked\.yaml: a symbolic link at master \([0-9a-f]{12}\)/);
    await assert.rejects(load('folder.yaml'), /manifest folder\.yaml: not a file at master .* \(a tree\)/);
    await assert.rejects(load('huge.yaml'), /manifest huge\.yaml: 209\d{4} bytes at master .*; a manifest is at most 1048576 bytes/);
    await assert.rejects(
      load('latin1.yaml'),
      /^ApplicationFailure: manifest latin1\.yaml: line 2: bytes that are not UTF-8; a manifest is UTF-8 text$/,
    );
    assert.equal((await load('cloudify.yaml')).manifest.product, 'configured');

    // The same bytes in a directory source, and given to the CLI as a file.
    const dir = join(root, 'shaped-manifests');
    mkdirSync(dir);
    writeFileSync(join(dir, 'latin1.yaml'), Buffer.from(latin1, 'latin1'));
    await assert.rejects(
      loadManifestByReference({ ...process.env, RELFLOW_MANIFEST_DIR: dir }, { name: 'latin1.yaml' }),
      /manifest latin1\.yaml: .*latin1\.yaml: line 2: bytes that are not UTF-8/,
    );
    const result = await runCliAsync(['plan', 'ga', '--version', '3.5', '-c', join(dir, 'latin1.yaml')]);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^relflow: .*latin1\.yaml: line 2: bytes that are not UTF-8; a manifest is UTF-8 text\n$/);
  });

  it('relflow plan --manifest plans from the configuration repository at its ref, as the workers will read it', async function () {
    const result = await runCliAsync(['plan', 'ga', '--version', '3.5', '--manifest', 'cloudify.yaml', '--json'], {
      RELFLOW_MANIFEST_REPO: env.RELFLOW_MANIFEST_REPO,
      RELFLOW_MANIFEST_REF: 'master',
    });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { plan: { releaseId: string }; repositories: { name: string }[] };
    // The product as the repository's master has it now (an earlier test may have pushed a change).
    assert.match(report.plan.releaseId, /^(re)?configured-3\.5$/);
    assert.deepEqual(
      report.repositories.map((repository) => repository.name),
      ['core'],
    );
    const missing = await runCliAsync(['plan', 'ga', '--version', '3.5', '--manifest', 'other.yaml'], {
      RELFLOW_MANIFEST_REPO: env.RELFLOW_MANIFEST_REPO,
      RELFLOW_MANIFEST_REF: 'master',
    });
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /^relflow: manifest other\.yaml: no such file at master/);
  });

  it('the CLI refuses in one line, exit 2, names that leave the source and refs that would reach git as options or lines', async function () {
    const dir = join(root, 'cli-manifests');
    mkdirSync(dir);
    writeFileSync(join(dir, 'cloudify.yaml'), stringify(product));
    const cases: [NodeJS.ProcessEnv, string[], RegExp][] = [
      [{ RELFLOW_MANIFEST_DIR: dir }, ['--manifest', '../x.yaml'], /^relflow: manifest: '\.\.\/x\.yaml' must be a relative path inside /],
      [{ RELFLOW_MANIFEST_DIR: dir }, ['--manifest', '/etc/passwd'], /^relflow: manifest: '\/etc\/passwd' must be a relative path inside /],
      [
        env,
        ['--manifest', 'cloudify.yaml', '--manifest-ref=-x'],
        /^relflow: manifest cloudify\.yaml: --manifest-ref '-x' is not a branch or tag name/,
      ],
      [
        env,
        ['--manifest', 'cloudify.yaml', '--manifest-ref=--upload-pack=touch /tmp/owned'],
        /--manifest-ref '--upload-pack=touch \/tmp\/owned' is not a branch or tag name/,
      ],
      [
        env,
        ['--manifest', 'cloudify.yaml', '--manifest-ref=main\nrefs/heads/evil'],
        /--manifest-ref 'main\?refs\/heads\/evil' is not a branch or tag name/,
      ],
    ];
    for (const [where, args, expected] of cases) {
      const result = await runCliAsync(['start', 'nightly', ...args], { ...where, TEMPORAL_ADDRESS: '127.0.0.1:1' });
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
  });

  it('a worker with a trusted source refuses an inline manifest at preflight, unless RELFLOW_INLINE_MANIFESTS=1', async function () {
    const manifest = manifestOf(product);
    const input = {
      kind: 'nightly' as const,
      manifest,
      plan: buildReleasePlan(manifest, { kind: 'nightly', date: '20261128' }),
      inline: true,
    };
    await assert.rejects(
      createPreflightActivities(env, 'python3').preflightRelease(input),
      /this worker runs manifests by reference only \(RELFLOW_MANIFEST_DIR or RELFLOW_MANIFEST_REPO\): start the release with relflow start --manifest <name>/,
    );
    await createPreflightActivities({ ...env, RELFLOW_INLINE_MANIFESTS: '1' }, 'python3').preflightRelease(input);
    await createPreflightActivities(process.env, 'python3').preflightRelease(input);
  });

  it('the inline refusal cannot be skipped: relflow skip and a raw skip signal are refused, nothing after the preflight runs', async function () {
    const taskQueue = uniqueTaskQueue('unskippable');
    const { activities, calls } = fakeActivities({ preflightRelease: createPreflightActivities(env, 'python3').preflightRelease as never });
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `unskippable-${Date.now()}`,
        // Its notifications are the sender's: no alert goes there.
        args: [
          {
            manifest: manifestOf({ ...product, notifications: { webhooks: [{ name: 'attacker', urlEnv: 'ATTACKER_WEBHOOK' }] } }),
            kind: 'nightly',
            date: '20261128',
            buildTaskQueue: `${taskQueue}-builds`,
          },
        ],
      });
      const blocked = await finished(handle);
      assert.equal(blocked.blocked?.stage, 'preflight');
      assert.equal(blocked.blocked?.skippable, false);
      await assert.rejects(
        operateRelease(testClient(), handle.workflowId, { action: 'skip', by: 'anyone' }),
        /stage preflight cannot be skipped/,
      );
      await handle.signal(operatorSignal, { action: 'skip', by: 'anyone' });
      await operateRelease(testClient(), handle.workflowId, { action: 'abort', by: 'alice' });
      const state = await handle.result();
      assert.equal(state.stages.find((stage) => stage.name === 'preflight')?.status, 'failed');
      assert.ok(state.log.some((entry) => /^refused operator signal: stage preflight cannot be skipped/.test(entry.action)));
      assert.ok(
        state.stages.filter((stage) => !['plan', 'preflight'].includes(stage.name)).every((stage) => stage.status !== 'succeeded'),
        JSON.stringify(state.stages),
      );
      assert.deepEqual(calls.checkoutRepository ?? [], [], 'nothing checked out, pushed or built');
      assert.equal(calls.sendAlert, undefined, "no alert through the refused manifest's webhooks");
    });
  });

  it('the inline refusal comes before every other check: no storage probe, no remote listing, no API call for that manifest', async function () {
    const mirror = join(tempDir('inline-mirror'), 'mirror');
    const hostile = manifestOf({
      ...product,
      storage: { bucket: 'releases', mirrors: [{ type: 'directory', name: 'mirror', path: mirror }] },
      repositories: [{ name: 'core', url: join(root, 'no-such-remote') }],
    });
    const input = {
      kind: 'nightly' as const,
      manifest: hostile,
      plan: buildReleasePlan(hostile, { kind: 'nightly', date: '20261128' }),
      inline: true,
    };
    await assert.rejects(createPreflightActivities(env, 'python3').preflightRelease(input), (error: Error) => {
      // The one problem: the remote that does not exist was not even listed, the mirror not probed.
      assert.equal(error.message.split('\n').length, 2, error.message);
      assert.match(error.message, /^preflight: 1 problem, nothing was changed:\n- this worker runs manifests by reference only/);
      return true;
    });
    assert.equal(existsSync(mirror), false, 'the storage probe did not run');
  });

  it("an email outbox outside the worker's local roots is refused at preflight, not lost at the first gate", async function () {
    const manifest = manifestOf({
      ...product,
      notifications: { email: { from: 'r@example.com', to: ['t@example.com'], outbox: '/etc/relflow-outbox' } },
    });
    const input = { kind: 'nightly' as const, manifest, plan: buildReleasePlan(manifest, { kind: 'nightly', date: '20261128' }) };
    await assert.rejects(
      createPreflightActivities(process.env, 'python3').preflightRelease(input),
      /^ApplicationFailure: preflight: 1 problem, nothing was changed:\n- notifications\.email\.outbox: \/etc\/relflow-outbox is outside the worker's local roots \(.*\); set RELFLOW_LOCAL_ROOTS on the worker to allow it$/,
    );
    const inside = manifestOf({
      ...product,
      notifications: { email: { from: 'r@example.com', to: ['t@example.com'], outbox: join(tempDir('outbox'), 'mail') } },
    });
    await createPreflightActivities(process.env, 'python3').preflightRelease({ ...input, manifest: inside });
  });
});
