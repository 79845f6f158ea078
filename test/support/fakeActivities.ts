import { Context } from '@temporalio/activity';
import type { ReleaseActivities } from '../../src/activities';
import type { ReleaseState, StoredFile } from '../../src/release/model';

type Calls = Record<string, unknown[][]>;

/**
 * Test activities for the workflow tests: every call is recorded; behaviour
 * can be replaced per test. The real activities have their own tests.
 */
export function fakeActivities(overrides: Partial<Record<keyof ReleaseActivities, (...args: never[]) => Promise<unknown>>> = {}) {
  const calls: Calls = {};
  const record = (name: string, args: unknown[]) => {
    (calls[name] ??= []).push(args);
  };
  const file = (name: string): StoredFile => ({
    name,
    file: `${name}.tgz`,
    size: 10,
    sha256: 'ab'.repeat(32),
    urls: [`http://storage/${name}.tgz`],
  });
  const defaults: Record<string, (...args: never[]) => Promise<unknown>> = {
    preflightRelease: async () => ({ checked: ['secrets', 'tools', 'remotes', 'storage'] }),
    checkoutRepository: async () => ({ baseSha: 'a'.repeat(40), warm: false }),
    // As the real one: the tag, when asked for, goes with the branch.
    versionRepository: async (input: never) => {
      const { tag } = input as { tag?: string };
      return {
        headSha: 'b'.repeat(40),
        changedFiles: ['setup.py'],
        committed: true,
        ...(tag ? { tagged: { tag, sha: 'b'.repeat(40), created: true } } : {}),
      };
    },
    tagRepository: async (input: never) => ({ tag: (input as { tag: string }).tag, sha: 'b'.repeat(40), created: true }),
    waitForCi: async () => ({ passed: true, repositories: [], detail: 'CI passed' }),
    uploadSpecs: async () => [file('types.yaml')],
    publishArtifactsManifest: async () => file('artifacts.json'),
    allocateBuildNumber: async () => ({ build: 274, allocated: true }),
    publishGithubReleases: async (input: never) =>
      (input as { releases: { repository: string; tag: string; draft: boolean }[] }).releases.map((release, index) => ({
        ...release,
        id: index,
        url: `https://github.example/${release.repository}/releases/${release.tag}`,
        created: true,
      })),
    writeReleaseNotes: async () => ({ notes: [], file: file('RELEASE-NOTES.md') }),
    publishProvenance: async (input: never) => ({
      stored: (input as { builds: { files: { file: string }[] }[] }).builds.flatMap((build) =>
        build.files.map(({ file: name }) => file(`${name}.intoto.jsonl`)),
      ),
      signed: true,
    }),
    publishChecksums: async () => ({ stored: [file('SHA256SUMS'), file('SHA256SUMS.sig')], signed: true }),
    runSystemTests: async () => ({ passed: true, tests: 3, failures: 0, skipped: 1, detail: '3 tests, 0 failed, 1 skipped' }),
    publishPythonPackage: async (input: never) => ({
      repository: (input as { target: { repository: { name: string } } }).target.repository.name,
      uploaded: ['x.whl'],
      skipped: [],
    }),
    buildDocs: async (input: never) => ({
      project: (input as { project: string }).project,
      version: '3.4',
      buildId: 1,
      success: true,
      detail: 'built',
    }),
    sendAlert: async () => ({ webhooks: [] }),
    announceRelease: async () => ({ email: '<id@test>', webhooks: [] }),
    signBuildRecord: async () => false,
    verifyGateDecision: async () => ({ required: false }),
    gateTakesSignedDecisions: async () => false,
    verifyOperatorCommand: async () => ({ required: false }),
    loadReleaseManifest: async () => {
      throw new Error('no manifest source in the fake activities');
    },
    findStoredBuild: async () => undefined,
    findReleasedWork: async () => undefined,
    provisionBuilder: async (request: never) => ({
      id: `machine-${(request as { artifact: { name: string } }).artifact.name}`,
      builder: 'local',
    }),
    buildArtifact: async (request: never) => [file((request as { artifact: { name: string } }).artifact.name)],
    tearDownBuilder: async () => undefined,
    retagRepository: async (input: never) => ({ tag: (input as { tag: string }).tag, sha: 'c'.repeat(40), created: true }),
  };
  const activities: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, implementation] of Object.entries({ ...defaults, ...overrides })) {
    activities[name] = async (...args: unknown[]) => {
      record(name, args);
      return (implementation as (...args: unknown[]) => Promise<unknown>)(...args);
    };
  }
  return { activities, calls };
}

/** An activity that runs until it is cancelled (heartbeating so it notices). */
export async function untilCancelled(): Promise<never> {
  const context = Context.current();
  for (;;) {
    context.heartbeat();
    await Promise.race([context.cancelled, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
}

/** The state of a finished nightly with nothing in it: what announce and report code needs at least. */
export function finishedNightly(): ReleaseState {
  return {
    releaseId: 'p-nightly-20261124',
    product: 'p',
    kind: 'nightly',
    status: 'succeeded',
    stage: 'done',
    stages: [],
    repositories: [],
    artifacts: [],
    gates: [],
    stored: [],
    log: [],
  };
}
