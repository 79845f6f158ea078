import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../config/manifest';
import { durationMs } from '../release/duration';
import { heartbeat } from './process';

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
    async buildDocs(input: { readthedocs: NonNullable<Manifest['readthedocs']>; project: string; version: string; pollMs?: number }): Promise<DocsResult> {
      const token = env[input.readthedocs.tokenEnv];
      if (!token) throw ApplicationFailure.nonRetryable(`readthedocs.tokenEnv: environment variable ${input.readthedocs.tokenEnv} is not set on the worker`, 'MissingSecret');
      const api = input.readthedocs.apiUrl.replace(/\/+$/, '');
      const headers = { authorization: `Token ${token}`, 'content-type': 'application/json' };
      const triggered = await fetch(`${api}/projects/${encodeURIComponent(input.project)}/versions/${encodeURIComponent(input.version)}/builds/`, { method: 'POST', headers });
      if (triggered.status === 404) {
        throw ApplicationFailure.nonRetryable(`ReadTheDocs project '${input.project}' has no version '${input.version}' (HTTP 404); activate it on ReadTheDocs`, 'DocsVersionNotFound');
      }
      if (!triggered.ok) throw new Error(`ReadTheDocs: triggering ${input.project} ${input.version} answered HTTP ${triggered.status}`);
      const { build } = (await triggered.json()) as { build: { id: number } };
      const deadline = Date.now() + durationMs(input.readthedocs.timeout);
      for (;;) {
        const response = await fetch(`${api}/projects/${encodeURIComponent(input.project)}/builds/${build.id}/`, { headers });
        if (!response.ok) throw new Error(`ReadTheDocs: build ${build.id} of ${input.project} answered HTTP ${response.status}`);
        const state = (await response.json()) as { state: { code: string }; success: boolean | null; error?: string };
        heartbeat({ build: build.id, state: state.state.code });
        if (state.state.code === 'finished') {
          return { project: input.project, version: input.version, buildId: build.id, success: Boolean(state.success), detail: state.success ? 'built' : `failed: ${state.error ?? 'see ReadTheDocs'}` };
        }
        if (Date.now() > deadline) return { project: input.project, version: input.version, buildId: build.id, success: false, detail: `timed out after ${input.readthedocs.timeout}` };
        await new Promise((resolve) => setTimeout(resolve, input.pollMs ?? 10_000));
      }
    },
  };
}
