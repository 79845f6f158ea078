import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import { requestProblem } from '../../release/requestCheck';
import { buildReleasePlan, dateStamp } from '../../release/plan';
import { activity } from '../proxies';
import type { Stage } from '../stage';

/** Computes every name of the release from the manifest: pure, so it runs in the workflow. */
export const planStage: Stage = {
  name: 'plan',
  skippable: false,
  skip: () => undefined,
  async run(context) {
    const { request, release } = context;
    // Any client can start a release: it checks its own input before anything else (releases recorded before go on unchecked).
    if (patched('workflow-checks-its-input')) {
      const problem = requestProblem(request, workflowInfo().workflowId);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'InvalidReleaseInput');
    }
    // A manifest named by reference comes from where the workers trust manifests to come from, read now.
    if (request.manifestRef && patched('manifest-by-reference')) {
      const loaded = await activity('loadReleaseManifest', { summary: `read manifest ${request.manifestRef.name}` })(request.manifestRef);
      context.manifest = loaded.manifest;
      release.setManifest(loaded.source, loaded.manifest.product);
    }
    const { manifest } = context;
    try {
      context.plan = buildReleasePlan(manifest, {
        kind: request.kind,
        version: request.version,
        pluginsVersion: request.pluginsVersion,
        date: request.date ?? dateStamp(new Date()),
        // Patches recorded before the plugins moved forward with them keep the GA plugins version they started with.
        ...(request.kind === 'patch' && !patched('patch-plugins-forward') ? { pluginsKeepVersion: true } : {}),
      });
    } catch (error) {
      throw ApplicationFailure.nonRetryable(error instanceof Error ? error.message : String(error), 'InvalidReleaseInput');
    }
    release.setReleaseName(context.plan.releaseName);
    for (const repository of context.plan.repositories) {
      Object.assign(release.repository(repository.name), { buildBranch: repository.buildBranch, tag: repository.tag });
    }
  },
};
