import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../config/manifest';
import { durationMs } from '../config/duration';
import { heartbeat } from './process';
import { readSecret } from './secrets';

export interface DocsResult {
  project: string;
  version: string;
  buildId: number;
  success: boolean;
  detail: string;
}

/** ReadTheDocs API v3: trigger a build of the release's version and poll it until it finishes. */
export function createDocsActivities(env: NodeJS.ProcessEnv) {
  return {
    async buildDocs(input: {
      readthedocs: NonNullable<Manifest['readthedocs']>;
      project: string;
      version: string;
      pollMs?: number;
    }): Promise<DocsResult> {
      const token = readSecret(env, 'readthedocs.tokenEnv', input.readthedocs.tokenEnv, input.readthedocs.apiUrl) as string;
      const api = input.readthedocs.apiUrl.replace(/\/+$/, '');
      const headers = { authorization: `Token ${token}`, 'content-type': 'application/json' };
      const project = `${api}/projects/${encodeURIComponent(input.project)}`;
      const deadline = Date.now() + durationMs(input.readthedocs.timeout);
      const pollMs = input.pollMs ?? 10_000;
      let triggered: Response;
      // Right after the tag push ReadTheDocs may not know the version yet: sync the project's versions and try again, until the timeout.
      for (let synced = false; ; synced = true) {
        triggered = await fetch(`${project}/versions/${encodeURIComponent(input.version)}/builds/`, { method: 'POST', headers });
        if (triggered.status !== 404) break;
        if (!synced) {
          const known = await fetch(`${project}/`, { headers });
          if (known.status === 404)
            throw ApplicationFailure.nonRetryable(
              `ReadTheDocs has no project '${input.project}' (HTTP 404); check repositories[].readthedocs`,
              'DocsProjectNotFound',
            );
        }
        if (Date.now() + pollMs > deadline) {
          throw ApplicationFailure.nonRetryable(
            `ReadTheDocs project '${input.project}' has no version '${input.version}' after syncing its versions for ${input.readthedocs.timeout}; is the tag pushed and the version active?`,
            'DocsVersionNotFound',
          );
        }
        const sync = await fetch(`${project}/sync-versions/`, { method: 'POST', headers });
        heartbeat({ project: input.project, syncing: input.version, status: sync.status });
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      const { build } = (await triggered.json()) as { build: { id: number } };
      for (;;) {
        const response = await fetch(`${api}/projects/${encodeURIComponent(input.project)}/builds/${build.id}/`, { headers });
        if (!response.ok) throw new Error(`ReadTheDocs: build ${build.id} of ${input.project} answered HTTP ${response.status}`);
        const state = (await response.json()) as { state: { code: string }; success: boolean | null; error?: string };
        heartbeat({ build: build.id, state: state.state.code });
        if (state.state.code === 'cancelled') {
          return {
            project: input.project,
            version: input.version,
            buildId: build.id,
            success: false,
            detail: `build ${build.id} was cancelled on ReadTheDocs`,
          };
        }
        if (state.state.code === 'finished') {
          return {
            project: input.project,
            version: input.version,
            buildId: build.id,
            success: Boolean(state.success),
            detail: state.success ? 'built' : `failed: ${state.error ?? 'see ReadTheDocs'}`,
          };
        }
        if (Date.now() > deadline)
          return {
            project: input.project,
            version: input.version,
            buildId: build.id,
            success: false,
            detail: `timed out after ${input.readthedocs.timeout}`,
          };
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    },
  };
}
