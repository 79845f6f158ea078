import { ChildWorkflowCancellationType, isCancellation, ParentClosePolicy, patched, startChild, workflowInfo } from '@temporalio/workflow';
import { durationMs } from '../../config/duration';
import { artifactWorkflowId, installationOf, type ReleasePlan, type RepositoryPlan, releaseFullRef, storageKey } from '../../release/plan';
import { activity } from '../proxies';
import { artifactWorkflow } from '../artifact';
import { publishGithubReleases } from '../githubReleases';
import { recordReleaseNotes } from '../releaseNotes';
import { planOf, releaseCommit, Stage } from '../stage';
import { fail, start, succeed } from '../tracker';
import { countOf } from '../../release/wording';
import type { StoredFile } from '../../release/model';
import { BUILD_TASK_QUEUE } from '../../config/taskQueues';

/** From this change on, the release's own worker signs the record of each build (the build workers may hold no key). */
const RELEASE_SIGNS_BUILD_RECORDS = 'release-signs-build-records';

/** The repository an artifact builds from (the manifest's check made sure it is one of the plan's). */
function repositoryOf(plan: ReleasePlan, name: string): RepositoryPlan {
  return plan.repositories.find((candidate) => candidate.name === name) as RepositoryPlan;
}

/** One child workflow per artifact, in parallel on the build task queue; then artifacts.json beside them. */
export const artifactsStage: Stage = {
  name: 'artifacts',
  skippable: true,
  skip: ({ manifest }) => (manifest.artifacts.length === 0 ? 'the manifest has no artifacts' : undefined),
  async run(context) {
    const plan = planOf(context);
    const { manifest, release } = context;
    const storage = manifest.storage as NonNullable<typeof manifest.storage>;
    const failures: string[] = [];
    await Promise.all(
      manifest.artifacts.map(async (artifact) => {
        const state = release.artifact(artifact.name, artifact.builder);
        if (context.results.artifacts.has(artifact.name)) return;
        start(state, `building on ${artifact.builder}`);
        const repository = repositoryOf(plan, artifact.repository);
        try {
          const child = await startChild(artifactWorkflow, {
            workflowId: artifactWorkflowId(release.state.releaseId, artifact.name),
            taskQueue: context.request.buildTaskQueue ?? BUILD_TASK_QUEUE,
            staticSummary: `${release.state.releaseId}: build ${artifact.name} on ${artifact.builder}`,
            cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
            args: [
              {
                releaseId: context.release.state.releaseId,
                release: plan.releaseId,
                artifact,
                repository: { name: repository.name, url: repository.url },
                sha: releaseCommit(context, repository.name),
                version: plan.forms.version_version,
                build: plan.build,
                storage,
                ec2: manifest.ec2,
                installation: installationOf(workflowInfo().namespace, manifest),
                keyPrefix: storageKey(plan, manifest, ''),
                timeoutMs: durationMs(artifact.timeout),
                tokenEnv: manifest.git.tokenEnv,
                heartbeatTimeout: context.request.buildHeartbeatTimeout,
              },
            ],
          });
          state.runId = child.firstExecutionRunId;
          const result = await child.result();
          // The build workers need not hold the release key: a release worker signs the record of what they built.
          if (!result.reused && patched(RELEASE_SIGNS_BUILD_RECORDS)) {
            await activity('signBuildRecord')({
              storage,
              keyPrefix: storageKey(plan, manifest, ''),
              artifact: { name: artifact.name },
              sha: releaseCommit(context, repository.name),
              files: result.files,
            });
          }
          context.results.artifacts.set(artifact.name, result.files);
          state.machineId = result.machineId;
          state.reused = result.reused === true;
          state.files = result.files;
          succeed(
            state,
            result.reused
              ? `${countOf(result.files.length, 'file')} of an earlier build of this commit still stored: not rebuilt`
              : `${countOf(result.files.length, 'file')} stored`,
          );
        } catch (error) {
          fail(state, error);
          failures.push(`${artifact.name}: ${state.error}`);
          if (isCancellation(error)) throw error;
        }
      }),
    );
    if (failures.length > 0) throw new Error(failures.join('; '));
    const { results } = context;
    const files = manifest.artifacts.flatMap((artifact) => results.artifacts.get(artifact.name) ?? []);
    // What changed since the previous release of each repository's line, stored beside the files (releases from before have none).
    let notesFile: StoredFile | undefined;
    if (patched('release-notes')) {
      notesFile = await recordReleaseNotes(context);
    }
    // The provenance of every output: who built it from which commit, how, where and when (releases from before have none).
    let provenance: StoredFile[] = [];
    if (patched('provenance')) {
      const published = await activity('publishProvenance')({
        storage,
        release: plan.releaseId,
        keyPrefix: storageKey(plan, manifest, ''),
        builds: manifest.artifacts.map((artifact) => {
          const state = release.artifact(artifact.name, artifact.builder);
          const repository = repositoryOf(plan, artifact.repository);
          return {
            releaseId: release.state.releaseId,
            artifact,
            build: plan.build,
            repository: { name: repository.name, url: repository.url },
            ref: releaseFullRef(repository),
            commit: releaseCommit(context, repository.name),
            machineId: state.machineId ?? 'none',
            temporal: {
              namespace: workflowInfo().namespace,
              workflowId: artifactWorkflowId(release.state.releaseId, artifact.name),
              runId: state.runId ?? '',
            },
            startedOn: state.startedAt ?? '',
            finishedOn: state.endedAt ?? '',
            reused: state.reused === true,
            files: (results.artifacts.get(artifact.name) ?? []).map(({ file, sha256 }) => ({ file, sha256 })),
          };
        }),
      });
      provenance = published.stored;
      const names = new Set(provenance.map((file) => file.name));
      results.stored = [...results.stored.filter((file) => !names.has(file.name)), ...provenance];
    }
    const manifestFile = await activity('publishArtifactsManifest')({
      storage,
      key: storageKey(plan, manifest, 'artifacts.json'),
      releaseId: context.release.state.releaseId,
      release: plan.releaseId,
      build: plan.build,
      files: [...files, ...results.stored],
    });
    results.stored = [...results.stored.filter((file) => file.name !== 'artifacts.json'), manifestFile];
    let signature = '';
    // SHA256SUMS of the release's directory, signed with the workers' release key (releases recorded before have none).
    if (patched('signed-checksums')) {
      const sums = await activity('publishChecksums')({
        storage,
        release: plan.releaseId,
        keyPrefix: storageKey(plan, manifest, ''),
        files: [...files, manifestFile, ...(notesFile ? [notesFile] : []), ...provenance],
      });
      const names = new Set(sums.stored.map((file) => file.name));
      results.stored = [...results.stored.filter((file) => !names.has(file.name)), ...sums.stored];
      signature = sums.signed ? '; SHA256SUMS signed' : "; SHA256SUMS unsigned (no signing.key in the workers' secrets file)";
    }
    release.state.stored = results.stored;
    // Drafts of the repositories' GitHub releases, with the notes and files just stored; the announce stage publishes them.
    const github = manifest.github?.releases && patched('github-releases') ? `; ${await publishGithubReleases(context, true)}` : '';
    return { detail: `${countOf(files.length, 'file')}; artifacts.json at ${manifestFile.urls[0]}${signature}${github}` };
  },
};
