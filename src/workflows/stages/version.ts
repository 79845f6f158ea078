import { repositoryTemplateValues } from '../../release/plan';
import { repositoryRules } from '../../release/versionRules';
import { activity } from '../proxies';
import { mapWithLimit } from '../concurrency';
import { planOf, Stage } from '../stage';
import { fail, start, succeed } from '../tracker';
import { countOf } from '../../release/wording';

/** The version tool over every repository, one commit each on the build branch, pushed. */
export const versionStage: Stage = {
  name: 'version',
  skippable: false,
  skip: () => undefined,
  async run(context) {
    const plan = planOf(context);
    const { manifest } = context;
    await mapWithLimit(plan.repositories, manifest.git.parallelism, async (repository) => {
      const state = context.release.repository(repository.name);
      if (state.headSha) return;
      start(state, `versioning on ${repository.buildBranch}`);
      try {
        const result = await activity('versionRepository', { summary: `version ${repository.name} on ${repository.buildBranch}` })({
          releaseId: context.release.state.releaseId,
          repository,
          tokenEnv: manifest.git.tokenEnv,
          baseSha: state.baseSha as string,
          rules: repositoryRules(manifest, repository.name),
          values: repositoryTemplateValues(plan, manifest, repository),
          author: manifest.git.author,
          message: plan.commitMessage,
        });
        state.headSha = result.headSha;
        state.changedFiles = result.changedFiles;
        succeed(state, `${countOf(result.changedFiles.length, 'file')} versioned at ${result.headSha.slice(0, 12)}`);
      } catch (error) {
        fail(state, error);
        throw error;
      }
    });
  },
};
