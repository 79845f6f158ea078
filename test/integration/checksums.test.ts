import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../src/activities/storage';
import { validateManifest } from '../../src/config/loadManifest';
import { MOTO_ENV, motoEndpoint } from '../../src/dev/localServices';
import type { ReleaseState } from '../../src/release/model';
import { type DsseEnvelope, dssePae, type ProvenanceStatement } from '../../src/release/provenance';
import { releaseFilesAt, verifyRelease } from '../../src/client/verify';
import { releaseWorkflow } from '../../src/workflows';
import { runCliAsync } from '../support/cli';
import { createRemote } from '../support/gitRepos';
import { TEST_SECRETS_FILE } from '../support/secrets';
import { tempDir, testClient, uniqueTaskQueue, withWorkers } from '../support/temporal';

function sshKey(dir: string, name: string): { key: string; allowedSigners: string } {
  const key = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', key]);
  const allowedSigners = join(dir, `${name}.allowed_signers`);
  writeFileSync(allowedSigners, `relflow-release ${readFileSync(`${key}.pub`, 'utf8').trim()}\n`);
  return { key, allowedSigners };
}

describe('signed checksums: SHA256SUMS and its signature beside every release, and relflow verify', function () {
  this.timeout(180_000);

  it('signs SHA256SUMS with the key of the workers secrets file; verify holds, and names a tampered file, a foreign key, a missing signature', async function () {
    const root = tempDir('checksums');
    const release = sshKey(root, 'release_key');
    const stranger = sshKey(root, 'stranger_key');
    const secrets = join(root, 'secrets.yaml');
    writeFileSync(secrets, readFileSync(TEST_SECRETS_FILE, 'utf8'));
    appendFileSync(secrets, `signing:\n  key: ${release.key}\n`);
    const remote = createRemote(root, {
      name: 'ui',
      files: {
        'build.sh': 'set -e\necho "$RELFLOW_VERSION" > VERSION.txt\ntar -cf - VERSION.txt | gzip -n > ui.tgz\necho notes > NOTES.txt\n',
      },
    });
    const endpoint = await motoEndpoint();
    const mirror = join(root, 'tarzan');
    const storage = {
      bucket: `checksums-${Date.now()}`,
      endpoint,
      accessKeyIdEnv: 'TEST_AWS_KEY',
      secretAccessKeyEnv: 'TEST_AWS_SECRET',
      mirrors: [{ type: 'directory' as const, name: 'tarzan', path: mirror }],
    };
    const env = { ...process.env, ...MOTO_ENV, RELFLOW_SECRETS: secrets };
    const s3 = s3Client({ ...storage, region: 'us-east-1' }, env);
    await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
    // A release bucket is publicly readable, as the downloads are.
    const publicRead = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${storage.bucket}/*` };
    await s3.send(
      new PutBucketPolicyCommand({ Bucket: storage.bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [publicRead] }) }),
    );
    const manifest = validateManifest(
      {
        product: 'signed',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [{ name: 'ui', url: remote }],
        artifacts: [{ name: 'ui', repository: 'ui', command: 'sh build.sh', outputs: ['ui.tgz', 'NOTES.txt'] }],
        storage,
      },
      'signed manifest',
    );
    const taskQueue = uniqueTaskQueue('signed');
    const state: ReleaseState = await withWorkers({ taskQueue, workspaceDir: join(root, 'workspace'), env }, async () =>
      (
        await testClient().workflow.start(releaseWorkflow, {
          taskQueue,
          workflowId: `signed-3.4-${Date.now()}`,
          args: [{ manifest, kind: 'ga', version: '3.4', buildTaskQueue: `${taskQueue}-builds` }],
        })
      ).result(),
    );
    assert.equal(state.status, 'succeeded', JSON.stringify(state.stages));
    assert.match(state.stages.find((stage) => stage.name === 'artifacts')?.detail ?? '', /; SHA256SUMS signed$/);
    const dir = join(mirror, 'org/signed/3.4.0/ga-RELEASE');
    assert.deepEqual(
      readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('  ')[1]),
      ['NOTES.txt', 'NOTES.txt.intoto.jsonl', 'RELEASE-NOTES.md', 'artifacts.json', 'ui.tgz', 'ui.tgz.intoto.jsonl'],
    );
    // The provenance beside each output: the artifact's statement in a DSSE envelope signed with the release key.
    const envelope = JSON.parse(readFileSync(join(dir, 'ui.tgz.intoto.jsonl'), 'utf8')) as DsseEnvelope;
    assert.equal(readFileSync(join(dir, 'NOTES.txt.intoto.jsonl'), 'utf8'), `${JSON.stringify(envelope)}\n`);
    assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
    assert.match(envelope.signatures[0].keyid, /^SHA256:[A-Za-z0-9+/]{43}$/);
    const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8')) as ProvenanceStatement;
    const sums = new Map(
      readFileSync(join(dir, 'SHA256SUMS'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => [line.split('  ')[1], line.split('  ')[0]]),
    );
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(statement.subject, [
      { name: 'NOTES.txt', digest: { sha256: sums.get('NOTES.txt') } },
      { name: 'ui.tgz', digest: { sha256: sums.get('ui.tgz') } },
    ]);
    const { buildDefinition, runDetails } = statement.predicate;
    const ref = buildDefinition.externalParameters.source.ref;
    assert.match(ref, /^refs\/tags\/.*3\.4/);
    const tagged = execFileSync('git', ['-C', remote, 'rev-parse', `${ref}^{commit}`], { encoding: 'utf8' }).trim();
    assert.deepEqual(buildDefinition.resolvedDependencies, [{ uri: `git+${remote}@${ref}`, digest: { gitCommit: tagged }, name: 'ui' }]);
    assert.equal(buildDefinition.externalParameters.command, 'sh build.sh');
    assert.equal(buildDefinition.internalParameters.builder, 'local');
    assert.equal(buildDefinition.internalParameters.reused, false);
    // The names of what the build saw, never a value, and no secret of the worker.
    assert.ok(
      ['PATH', 'HOME', 'RELFLOW_SHA', 'RELFLOW_VERSION'].every((name) => buildDefinition.internalParameters.environment.includes(name)),
    );
    assert.ok(!buildDefinition.internalParameters.environment.some((name) => name.startsWith('TEST_AWS')));
    assert.ok(!JSON.stringify(statement).includes(MOTO_ENV.TEST_AWS_SECRET));
    const artifactsChild = await testClient().workflow.getHandle(`${state.releaseId}/artifact/ui`).describe();
    assert.deepEqual(buildDefinition.internalParameters.temporal, {
      namespace: 'default',
      workflowId: `${state.releaseId}/artifact/ui`,
      runId: artifactsChild.runId,
    });
    assert.equal(runDetails.metadata.invocationId, `temporal://default/${state.releaseId}/artifact/ui/${artifactsChild.runId}`);
    assert.ok(runDetails.metadata.startedOn <= runDetails.metadata.finishedOn, JSON.stringify(runDetails.metadata));
    assert.match(runDetails.builder.version.relflow, /^\d+\.\d+\.\d+/);
    // What any downloader has: sha256sum reads it, ssh-keygen verifies it.
    execFileSync('sha256sum', ['--quiet', '-c', 'SHA256SUMS'], { cwd: dir });
    execFileSync(
      'ssh-keygen',
      ['-Y', 'verify', '-f', release.allowedSigners, '-I', 'relflow-release', '-n', 'relflow-release', '-s', 'SHA256SUMS.sig'],
      {
        cwd: dir,
        input: readFileSync(join(dir, 'SHA256SUMS')),
      },
    );

    // The test's remote is a path: looked up only when asked, as a downloader would for a remote they trust.
    const verify = (location: string, signers = release.allowedSigners) =>
      runCliAsync(['verify', location, '--allowed-signers', signers, '--insecure-source']);
    const strict = await runCliAsync(['verify', dir, '--allowed-signers', release.allowedSigners]);
    assert.equal(strict.status, 1);
    assert.match(strict.stdout, /^ui\.tgz\.intoto\.jsonl +provenance source +FAILED +not checked: .* is not an https remote/m);
    const good = await verify(dir);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(
      good.stdout,
      /^SHA256SUMS\.sig +signature +ok +Good "relflow-release" signature for relflow-release with ED25519 key SHA256:/m,
    );
    assert.match(good.stdout, /^ui\.tgz\.intoto\.jsonl +provenance signature +ok +Good "relflow-release" signature/m);
    assert.match(good.stdout, /^ui\.tgz\.intoto\.jsonl +provenance subjects +ok +NOTES\.txt, ui\.tgz as in SHA256SUMS$/m);
    assert.match(good.stdout, new RegExp(`^ui\\.tgz\\.intoto\\.jsonl +provenance source +ok +${ref} at ${tagged.slice(0, 12)} on `, 'm'));
    assert.match(good.stdout, /^verified: 13 checks hold$/m);
    // The same from the bucket's public URL, as a downloader reads it.
    const url = state.stored.find((file) => file.name === 'artifacts.json')?.urls[0] ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\//);
    const remoteCheck = await verify(url);
    assert.equal(remoteCheck.status, 0, remoteCheck.stdout + remoteCheck.stderr);

    const foreign = await verify(dir, stranger.allowedSigners);
    assert.equal(foreign.status, 1);
    assert.match(
      foreign.stdout,
      /^SHA256SUMS\.sig +signature +FAILED +signed by a key that .*stranger_key\.allowed_signers does not list$/m,
    );

    // A statement rewritten to claim another commit keeps its old signature: the signature no longer holds.
    const forged = {
      ...statement,
      predicate: {
        ...statement.predicate,
        buildDefinition: {
          ...buildDefinition,
          resolvedDependencies: [{ ...buildDefinition.resolvedDependencies[0], digest: { gitCommit: '0'.repeat(40) } }],
        },
      },
    };
    const original = readFileSync(join(dir, 'ui.tgz.intoto.jsonl'));
    writeFileSync(
      join(dir, 'ui.tgz.intoto.jsonl'),
      `${JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(forged)).toString('base64') })}\n`,
    );
    const forgedCheck = await verify(dir);
    assert.equal(forgedCheck.status, 1);
    assert.match(forgedCheck.stdout, /^ui\.tgz\.intoto\.jsonl +provenance signature +FAILED +bad signature/m);
    assert.match(forgedCheck.stdout, /^ui\.tgz\.intoto\.jsonl +sha256 +FAILED +is [0-9a-f]{64}, SHA256SUMS says/m);
    // The forged statement's URL is never run by git: only a statement whose signature holds names a remote to look at.
    assert.match(
      forgedCheck.stdout,
      /^ui\.tgz\.intoto\.jsonl +provenance source +FAILED +not checked: the statement's signature does not hold$/m,
    );

    // A statement of reused outputs, signed by the release key, says so.
    const reusedStatement = {
      ...statement,
      predicate: {
        ...statement.predicate,
        buildDefinition: { ...buildDefinition, internalParameters: { ...buildDefinition.internalParameters, reused: true } },
      },
    };
    const reusedPayload = Buffer.from(JSON.stringify(reusedStatement));
    const signedPae = execFileSync('ssh-keygen', ['-q', '-Y', 'sign', '-n', 'relflow-release', '-f', release.key], {
      input: dssePae(envelope.payloadType, reusedPayload),
    });
    writeFileSync(
      join(dir, 'ui.tgz.intoto.jsonl'),
      `${JSON.stringify({ ...envelope, payload: reusedPayload.toString('base64'), signatures: [{ ...envelope.signatures[0], sig: signedPae.toString('base64') }] })}\n`,
    );
    const reusedCheck = await verify(dir);
    assert.match(reusedCheck.stdout, /^ui\.tgz\.intoto\.jsonl +provenance signature +ok/m);
    assert.match(
      reusedCheck.stdout,
      /^ui\.tgz\.intoto\.jsonl +provenance subjects +ok +NOTES\.txt, ui\.tgz as in SHA256SUMS \(reused: stored by an earlier build/m,
    );

    // The release asked for: artifacts.json, under the signed SHA256SUMS, must name it.
    const bound = await verifyRelease(releaseFilesAt(dir), release.allowedSigners, { source: false, release: state.releaseId });
    assert.deepEqual(
      bound.find((row) => row.check === 'release'),
      { file: 'artifacts.json', check: 'release', ok: true, detail: state.releaseId },
    );
    const other = await verifyRelease(releaseFilesAt(dir), release.allowedSigners, { source: false, release: 'cloudify-3.3' });
    assert.deepEqual(
      other.find((row) => row.check === 'release'),
      {
        file: 'artifacts.json',
        check: 'release',
        ok: false,
        detail: `is release ${state.releaseId}, not cloudify-3.3`,
      },
    );
    writeFileSync(join(dir, 'ui.tgz.intoto.jsonl'), original);

    // The tag moved on the remote after the release: the provenance's source no longer holds.
    const parent = execFileSync('git', ['-C', remote, 'rev-parse', `${tagged}^`], { encoding: 'utf8' }).trim();
    execFileSync('git', ['-C', remote, 'update-ref', ref, parent]);
    const moved = await verify(dir);
    assert.equal(moved.status, 1);
    assert.match(
      moved.stdout,
      new RegExp(
        `^ui\\.tgz\\.intoto\\.jsonl +provenance source +FAILED +${ref} is at ${parent.slice(0, 12)} on .*, the statement says ${tagged.slice(0, 12)}$`,
        'm',
      ),
    );
    assert.match(moved.stdout, /^2 of 13 checks failed$/m);

    writeFileSync(join(dir, 'NOTES.txt'), 'tampered\n');
    const tampered = await verify(dir);
    assert.equal(tampered.status, 1);
    assert.match(tampered.stdout, /^NOTES\.txt +sha256 +FAILED +is [0-9a-f]{64}, SHA256SUMS says [0-9a-f]{64}$/m);
    assert.match(tampered.stdout, /^3 of 13 checks failed$/m);

    rmSync(join(dir, 'SHA256SUMS.sig'));
    const unsigned = await verify(dir);
    assert.equal(unsigned.status, 1);
    assert.match(unsigned.stdout, /^SHA256SUMS\.sig +signature +FAILED +missing: the release is not signed$/m);
  });
});
