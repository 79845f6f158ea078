import { currentDetails, releaseReport } from '../../src/release/report';
import { strict as assert } from 'node:assert';
import { ApplicationFailure } from '@temporalio/common';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createGateSignatureActivities } from '../../src/activities/gateSignatures';
import { createRetagActivities } from '../../src/activities/retagTarget';
import { signGateDecision, signOperatorCommand, signRetagCommand } from '../../src/client/gateSigning';
import { decideGate, decisionScopeOf, operateRelease } from '../../src/client/releases';
import type { ManifestInput } from '../../src/config/manifest';
import type { GateDecision, OperatorCommand, ReleaseState } from '../../src/release/model';
import { releaseWorkflow, retagWorkflow } from '../../src/workflows';
import { errorMessage } from '../../src/workflows/tracker';
import { approveSignal, operatorSignal, releaseStateQuery } from '../../src/workflows/api';
import { runCli, runCliAsync } from '../support/cli';
import { fakeActivities } from '../support/fakeActivities';
import { manifestOf, writeManifest } from '../support/manifests';
import { TEST_SECRETS_FILE } from '../support/secrets';
import { tempDir, testClient, testServer, uniqueTaskQueue, withWorkers } from '../support/temporal';

/** An SSH key pair of a person, made with ssh-keygen; returns the private key's path and its public line. */
function keyOf(dir: string, name: string): { key: string; publicKey: string } {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  return { key, publicKey: readFileSync(`${key}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ') };
}

const manifest: ManifestInput = {
  product: 'signed',
  versions: { core: '3.5', plugins: '1.5' },
  repositories: [{ name: 'core', url: '/srv/core.git', pypi: true }],
  ci: { provider: 'none' },
  gates: { pypi: { timeout: '1h', reminderEvery: '1h' }, docs: { enabled: false } },
  pypi: { repositoryUrl: 'http://pypi.invalid/' },
};

async function waitFor(
  handle: { query: (q: typeof releaseStateQuery) => Promise<ReleaseState> },
  predicate: (state: ReleaseState) => boolean,
): Promise<ReleaseState> {
  for (let waited = 0; waited < 60_000; waited += 100) {
    const state = await handle.query(releaseStateQuery);
    if (predicate(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('timed out');
}

describe('approvals bound to a key: a gate with allowed signers takes signed decisions only', function () {
  this.timeout(120_000);
  let dir: string;
  let alice: { key: string; publicKey: string };
  let mallory: { key: string; publicKey: string };
  let env: NodeJS.ProcessEnv;

  before(function () {
    dir = tempDir('gate-keys');
    alice = keyOf(dir, 'alice');
    mallory = keyOf(dir, 'mallory');
    const trust = join(dir, 'secrets.yaml');
    writeFileSync(
      trust,
      `${readFileSync(TEST_SECRETS_FILE, 'utf8')}gates:\n  pypi:\n    allowedSigners:\n      - alice@example.com ${alice.publicKey}\n` +
        `operators:\n  allowedSigners:\n    - alice@example.com ${alice.publicKey}\n`,
    );
    env = { ...process.env, RELFLOW_SECRETS: trust };
  });

  it('relflow validate warns about every gate that takes unsigned decisions, and not about one with allowed signers', function () {
    const config = writeManifest(tempDir('gate-validate'), { ...manifest, gates: { pypi: {}, docs: {} } });
    const unsigned = runCli(['validate', '-c', config], { RELFLOW_SECRETS: TEST_SECRETS_FILE });
    assert.equal(unsigned.status, 0);
    assert.match(unsigned.stderr, /^warning: gates\.pypi: decisions are unauthenticated .* lists none$/m);
    assert.match(unsigned.stderr, /^warning: gates\.docs: decisions are unauthenticated/m);
    const signed = runCli(['validate', '-c', config], { RELFLOW_SECRETS: env.RELFLOW_SECRETS });
    assert.doesNotMatch(signed.stderr, /gates\.pypi/);
    assert.match(signed.stderr, /gates\.docs: decisions are unauthenticated/);
  });

  it('the worker’s verification: an allowed key passes; an unknown key, a wrong gate, a tampered payload, another release, an old time are refused', async function () {
    const { verifyGateDecision } = createGateSignatureActivities(env);
    const decision = {
      releaseId: 'signed-3.5',
      run: 'run-1',
      namespace: 'default',
      gate: 'pypi' as const,
      decision: 'approved' as const,
      by: 'alice@example.com',
      comment: 'ship it',
    };
    type Signed = { release: string; run: string; namespace: string; gate: string; decision: 'approved' | 'rejected'; comment: string };
    const sign = (key: string, over: Partial<Signed> = {}) =>
      signGateDecision(key, {
        release: 'signed-3.5',
        run: 'run-1',
        namespace: 'default',
        gate: 'pypi',
        decision: 'approved',
        comment: 'ship it',
        ...over,
      });

    const good = await verifyGateDecision({ ...decision, ...(await sign(alice.key)) });
    assert.equal(good.required, true);
    assert.equal(good.problem, undefined);
    assert.equal(good.signer?.principal, 'alice@example.com');
    assert.equal(
      good.signer?.fingerprint,
      execFileSync('ssh-keygen', ['-l', '-f', `${alice.key}.pub`], { encoding: 'utf8' }).split(' ')[1],
    );

    const refusedWith = async (signed: { time: string; signature: string }, expected: RegExp, over: Partial<typeof decision> = {}) => {
      const verdict = await verifyGateDecision({ ...decision, ...over, ...signed });
      assert.equal(verdict.signer, undefined);
      assert.match(verdict.problem ?? '', expected);
    };
    await refusedWith(await sign(mallory.key), /^the key that signed this decision is not one of the allowed signers of gate pypi$/);
    await refusedWith(await sign(alice.key, { gate: 'docs' }), /does not match this decision \(approved of gate pypi of signed-3\.5\)/);
    await refusedWith(await sign(alice.key), /does not match/, { comment: 'ship it, and also this' });
    await refusedWith(await sign(alice.key, { decision: 'rejected' }), /does not match/);
    await refusedWith(
      await sign(alice.key, { release: 'signed-3.4' }),
      /does not match this decision \(approved of gate pypi of signed-3\.5\)/,
    );
    // Bound to the run and the namespace: staging's approval, or one for an earlier run of the release, is no approval here.
    await refusedWith(await sign(alice.key, { namespace: 'staging' }), /does not match this decision/);
    await refusedWith(await sign(alice.key, { run: 'run-0' }), /does not match this decision/);
    const old = await sign(alice.key);
    const tamperedTime = { ...old, time: new Date(Date.now() - 60_000).toISOString() };
    await refusedWith(tamperedTime, /does not match/);
    assert.match(
      (await verifyGateDecision({ ...decision, time: '2026-01-01T00:00:00.000Z', signature: old.signature })).problem ?? '',
      /signed at 2026-01-01T00:00:00\.000Z, more than ten minutes from now/,
    );
    assert.match((await verifyGateDecision(decision)).problem ?? '', /gate pypi takes signed decisions only/);
    // A gate the trust file does not list takes unsigned decisions, as before.
    assert.deepEqual(await verifyGateDecision({ ...decision, gate: 'docs' }), { required: false });
  });

  it('on a real release: the Web UI’s signal and unsigned or foreign decisions are refused; alice’s signed approval passes and is recorded', async function () {
    const taskQueue = uniqueTaskQueue('signed');
    const signatures = createGateSignatureActivities(env);
    const { activities, calls } = fakeActivities({
      verifyGateDecision: signatures.verifyGateDecision as never,
      gateTakesSignedDecisions: signatures.gateTakesSignedDecisions as never,
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const releaseId = `signed-${process.pid}-${Date.now()}`;
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: releaseId,
        args: [{ manifest: manifestOf(manifest), kind: 'ga', version: '3.5', buildTaskQueue: `${taskQueue}-builds` }],
      });
      const opened = await waitFor(handle, (state) => state.gates.some((gate) => gate.name === 'pypi' && gate.status === 'open'));

      // Every place that shows how to decide says --key: status and the Web UI's details (a line each).
      const approveCommand = `relflow approve ${releaseId} pypi --by <you> --key <your SSH key>`;
      const status = await runCliAsync(['status', releaseId], { TEMPORAL_ADDRESS: testServer().address });
      assert.ok(status.stdout.includes(`waiting: ${approveCommand}   (or reject)`), status.stdout);
      const details = currentDetails(opened);
      assert.match(details, /^\*\*Waiting at the pypi gate\*\* for anyone, signed decisions only:$/m);
      assert.ok(details.split('\n').includes(`- approve: \`${approveCommand}\``), details);
      assert.ok(
        details.split('\n').includes(`- reject: \`relflow reject ${releaseId} pypi --by <you> --key <your SSH key> --comment <why>\``),
        details,
      );

      // The Web UI's signal form: no signature, refused into the log.
      await handle.signal(approveSignal, { gate: 'pypi', by: 'alice@example.com' });
      const afterSignal = await waitFor(handle, (state) => state.log.some((entry) => entry.action.startsWith('refused approve signal')));
      assert.match(afterSignal.log.find((entry) => entry.action.startsWith('refused'))?.action ?? '', /takes signed decisions only/);

      const approve = (decision: GateDecision) => decideGate(testClient(), releaseId, decision, true);
      await assert.rejects(
        approve({ gate: 'pypi', by: 'alice@example.com' }),
        /^UserError: refused: gate pypi takes signed decisions only/,
      );
      const scope = await decisionScopeOf(testClient(), releaseId);
      const byMallory = await signGateDecision(mallory.key, { ...scope, gate: 'pypi', decision: 'approved' });
      await assert.rejects(
        approve({ gate: 'pypi', by: 'alice@example.com', ...byMallory }),
        /refused: the key that signed this decision is not one of the allowed signers of gate pypi/,
      );
      const forAnother = await signGateDecision(alice.key, { ...scope, release: 'signed-3.4', gate: 'pypi', decision: 'approved' });
      await assert.rejects(
        approve({ gate: 'pypi', by: 'alice@example.com', ...forAnother }),
        /refused: the signature of alice@example\.com does not match/,
      );
      const byAlice = await signGateDecision(alice.key, { ...scope, gate: 'pypi', decision: 'approved' });
      await assert.rejects(
        approve({ gate: 'pypi', by: 'bob', ...byAlice }),
        /refused: the decision is signed by alice@example\.com, not by bob/,
      );
      assert.equal((await handle.query(releaseStateQuery)).gates.find((gate) => gate.name === 'pypi')?.status, 'open', 'still open');
      // Each attempted approval is in the report's decisions, with who sent it and why it was refused.
      const attempts = releaseReport(await handle.query(releaseStateQuery)).decisions.filter((line) =>
        line.includes(' refused approve update: '),
      );
      const expected = [
        /^\S+Z alice@example\.com: refused approve update: gate pypi takes signed decisions only: decide with relflow approve\/reject --key/,
        /^\S+Z alice@example\.com: refused approve update: the key that signed this decision is not one of the allowed signers of gate pypi$/,
        /^\S+Z alice@example\.com: refused approve update: the signature of alice@example\.com does not match this decision/,
        /^\S+Z bob: refused approve update: the decision is signed by alice@example\.com, not by bob: pass --by alice@example\.com$/,
      ];
      assert.equal(attempts.length, expected.length, attempts.join('\n'));
      attempts.forEach((line, index) => assert.match(line, expected[index]));

      // Through the CLI, as a person would: relflow approve --key, with the key's path relative to where it runs.
      const cli = await runCliAsync(
        [
          'approve',
          releaseId,
          'pypi',
          '--by',
          'alice@example.com',
          '--key',
          join(basename(dirname(alice.key)), basename(alice.key)),
          '--comment',
          'ship it',
        ],
        { TEMPORAL_ADDRESS: testServer().address },
        dirname(dirname(alice.key)),
      );
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /gate pypi of .*: approved by alice@example\.com \(signature verified, key SHA256:/);
      const state = await waitFor(handle, (candidate) => candidate.status === 'succeeded');
      const gate = state.gates.find((candidate) => candidate.name === 'pypi');
      assert.equal(gate?.signer?.principal, 'alice@example.com');
      assert.match(gate?.signer?.fingerprint ?? '', /^SHA256:/);
      assert.ok(
        state.log.some(
          (entry) => entry.by === 'alice@example.com' && /approved gate pypi \(signed, key SHA256:.*\): ship it/.test(entry.action),
        ),
      );
      assert.ok(calls.publishPythonPackage, 'published after the signed approval');
    });
  });

  it('retry, skip and abort are signed where the workers list operators: unsigned, foreign and other-run commands are refused', async function () {
    const taskQueue = uniqueTaskQueue('signed-ops');
    let checkouts = 0;
    const fallback = fakeActivities().activities as unknown as Record<string, (...args: never[]) => Promise<unknown>>;
    const { activities } = fakeActivities({
      verifyOperatorCommand: createGateSignatureActivities(env).verifyOperatorCommand as never,
      checkoutRepository: async (...args: never[]) => {
        checkouts += 1;
        if (checkouts === 1) throw ApplicationFailure.nonRetryable('remote down', 'RemoteDown');
        return fallback.checkoutRepository(...args);
      },
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const releaseId = `signed-ops-${process.pid}-${Date.now()}`;
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: releaseId,
        args: [{ manifest: manifestOf(manifest), kind: 'nightly', date: '20261203', buildTaskQueue: `${taskQueue}-builds` }],
      });
      await waitFor(handle, (state) => state.blocked?.stage === 'checkout');
      const operate = (command: OperatorCommand) => operateRelease(testClient(), releaseId, command);
      await assert.rejects(operate({ action: 'retry', by: 'anyone' }), /refused: this release takes signed operator commands only/);
      await handle.signal(operatorSignal, { action: 'retry', by: 'anyone' });
      await waitFor(handle, (state) =>
        state.log.some((entry) => entry.action.startsWith('refused operator signal: this release takes signed')),
      );
      const scope = await decisionScopeOf(testClient(), releaseId);
      const byMallory = await signOperatorCommand(mallory.key, { ...scope, action: 'retry' });
      await assert.rejects(
        operate({ action: 'retry', by: 'alice@example.com', ...byMallory }),
        /refused: the key that signed this decision is not one of the allowed signers of the operators/,
      );
      const otherRun = await signOperatorCommand(alice.key, { ...scope, run: 'an-earlier-run', action: 'retry' });
      await assert.rejects(operate({ action: 'retry', by: 'alice@example.com', ...otherRun }), /does not match this decision \(retry of /);
      const abortSigned = await signOperatorCommand(alice.key, { ...scope, action: 'abort' });
      await assert.rejects(operate({ action: 'retry', by: 'alice@example.com', ...abortSigned }), /does not match/, 'an abort is no retry');
      assert.equal((await handle.query(releaseStateQuery)).blocked?.stage, 'checkout', 'still blocked');

      // Through the CLI, as an operator would.
      const cli = await runCliAsync(['retry', releaseId, '--by', 'alice@example.com', '--key', alice.key, '--reason', 'remote is back'], {
        TEMPORAL_ADDRESS: testServer().address,
      });
      assert.equal(cli.status, 0, cli.stderr);
      const state = await waitFor(handle, (candidate) => candidate.status === 'succeeded');
      assert.equal(checkouts, 2, 'checked out again after the signed retry');
      assert.ok(
        state.log.some((entry) => entry.by === 'alice@example.com' && entry.action === 'retry stage checkout (signed): remote is back'),
      );
    });
  });
});

describe('relflow retag names a release and a repository; the worker reads the rest and takes signed requests only', function () {
  this.timeout(120_000);

  it('a client-chosen tag input, a foreign workflow, unsigned and mis-signed requests are refused; a signed one moves the recorded tag', async function () {
    const dir = tempDir('retag-keys');
    const alice = keyOf(dir, 'alice');
    const trust = join(dir, 'secrets.yaml');
    writeFileSync(
      trust,
      `${readFileSync(TEST_SECRETS_FILE, 'utf8')}operators:\n  allowedSigners:\n    - alice@example.com ${alice.publicKey}\n`,
    );
    const env = { ...process.env, RELFLOW_SECRETS: trust };
    const taskQueue = uniqueTaskQueue('signed-retag');
    const { activities, calls } = fakeActivities({ retagTarget: createRetagActivities(env).retagTarget as never });
    await withWorkers({ taskQueue, activities }, async () => {
      const releaseId = `signed-retag-${process.pid}-${Date.now()}`;
      const release = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: releaseId,
        args: [{ manifest: manifestOf(manifest), kind: 'ga', version: '3.4', buildTaskQueue: `${taskQueue}-builds` }],
      });
      await waitFor(release, (state) => state.gates.some((gate) => gate.status === 'open'));
      const retag = async (input: unknown, workflowId = `${releaseId}/retag/${Date.now()}`) =>
        testClient().workflow.execute(retagWorkflow, { taskQueue, workflowId, args: [input as never] });

      // The attack of the issue: a client names the URL and tag to force-push.
      const forged = { releaseId, repository: { name: 'core', url: '/srv/other.git', buildBranch: 'main' }, tag: '3.3', message: 'x' };
      await assert.rejects(retag(forged), (error: unknown) => {
        assert.match(errorMessage(error), /retag refused: repository: the name of one of the release's repositories/);
        return true;
      });
      const ownId = `${releaseId}/retag/self`;
      await assert.rejects(retag({ releaseId: ownId, repository: 'core', by: 'mallory' }, ownId), (error: unknown) => {
        assert.match(errorMessage(error), /is a retagWorkflow, not a release/);
        return true;
      });
      await assert.rejects(retag({ releaseId, repository: 'core', by: 'mallory' }), (error: unknown) => {
        assert.match(errorMessage(error), /this worker takes signed operator commands only: relflow retag --key/);
        return true;
      });
      const scope = await decisionScopeOf(testClient(), releaseId);
      const forced = await signRetagCommand(alice.key, { ...scope, repository: 'core', force: true });
      await assert.rejects(retag({ releaseId, repository: 'core', by: 'alice@example.com', ...forced }), (error: unknown) => {
        assert.match(errorMessage(error), /does not match this decision \(retag of core in /, 'signed with --force, sent without');
        return true;
      });
      assert.equal(calls.retagRepository, undefined, 'nothing was retagged');

      const cli = await runCliAsync(['retag', releaseId, '--repository', 'core', '--by', 'alice@example.com', '--key', alice.key], {
        TEMPORAL_ADDRESS: testServer().address,
        RELFLOW_TASK_QUEUE: taskQueue,
      });
      assert.equal(cli.status, 0, cli.stderr);
      assert.equal(cli.stdout.trim(), `tag 3.4 of core moved to ${'c'.repeat(40)}`);
      const [[moved]] = calls.retagRepository as [[{ repository: { url: string; buildBranch: string }; tag: string; message: string }]];
      assert.deepEqual(
        { url: moved.repository.url, branch: moved.repository.buildBranch, tag: moved.tag, message: moved.message },
        { url: '/srv/core.git', branch: '3.4-build', tag: '3.4', message: 'Retag 3.4 by alice@example.com (signed)' },
      );
      await release.terminate('test done');
    });
  });
});
