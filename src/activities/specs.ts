import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../config/manifest';
import type { RepositoryPlan } from '../release/plan';
import type { StoredFile } from '../release/model';
import { describeGitFailure } from './git';
import type { GitWorkspace } from './gitWorkspace';
import { storedFileOf, storeFile } from './storage';

export interface SpecFile {
  repository: RepositoryPlan;
  /** The commit the version stage pushed. */
  sha: string;
  /** Path inside the repository. */
  path: string;
  key: string;
}

/** types.yaml and every plugin.yaml, read from the version commit and stored under the release's layout. */
export function createSpecsActivities(workspace: GitWorkspace, env: NodeJS.ProcessEnv) {
  return {
    async uploadSpecs(input: {
      releaseId: string;
      /** The plan's release ID, which owns the stored files (inputs scheduled before it was sent have the workflow's). */
      release?: string;
      storage: NonNullable<Manifest['storage']>;
      files: SpecFile[];
      tokenEnv?: string;
    }): Promise<StoredFile[]> {
      const scratch = await mkdtemp(join(tmpdir(), 'relflow-specs-'));
      try {
        const stored: StoredFile[] = [];
        for (const spec of input.files) {
          const { repository } = spec;
          let content: string;
          try {
            let git = await workspace.workingCopy(input.releaseId, repository.name, repository.url, {
              tokenEnv: input.tokenEnv,
              fetch: false,
            });
            if (!(await git.raw(['cat-file', '-t', spec.sha]).catch(() => ''))) {
              git = await workspace.workingCopy(input.releaseId, repository.name, repository.url, { tokenEnv: input.tokenEnv });
            }
            content = await git.raw(['show', `${spec.sha}:${spec.path}`]);
          } catch (error) {
            throw describeGitFailure(error, `${repository.name}: cannot read ${spec.path} at ${spec.sha.slice(0, 12)}`);
          }
          const local = join(scratch, `${repository.name}-${spec.path.replace(/\//g, '_')}`);
          await writeFile(local, content);
          const file = await storeFile(
            {
              storage: input.storage,
              release: input.release ?? input.releaseId,
              name: `${repository.name}/${spec.path}`,
              key: spec.key,
              path: local,
            },
            env,
          );
          stored.push(storedFileOf(file));
        }
        return stored;
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    },
  };
}
