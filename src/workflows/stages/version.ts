import { patched } from '@temporalio/workflow';
import { repositoryTemplateValues } from '../../release/plan';
import { declaredPackages, rulesAndValues, siblingValues } from '../../release/siblings';
import { repositoryRules } from '../../release/versionRules';
import { countOf } from '../../release/wording';
import { forEachRepository } from '../repositories';
import { planOf, Stage } from '../stage';
import { releaseUntagged } from './tag';

/** The version tool over every repository, one commit each on the build branch, pushed with the release's tag. */
export const versionStage: Stage = {
  name: 'version',
  skippable: false,
  skip: () => undefined,
  async run(context) {
    const plan = planOf(context);
    const { manifest } = context;
    const { checkout, version, tag } = context.results;
    const siblings = siblingValues(manifest, declaredPackages(context.release.state.repositories));
    // Branch and tag in one atomic push per repository; runs from before push them in two stages.
    const withTag = !releaseUntagged(context) && patched('atomic-tag-push');
    await forEachRepository(context, {
      isDone: (repository) => version.has(repository.name),
      starting: (repository) => `versioning on ${repository.buildBranch}`,
      activity: 'versionRepository',
      summary: (repository) => `version ${repository.name} on ${repository.buildBranch}`,
      input: (repository) => ({
        releaseId: context.release.state.releaseId,
        repository,
        tokenEnv: manifest.git.tokenEnv,
        baseSha: checkout.get(repository.name) as string,
        ...rulesAndValues(repositoryRules(manifest, repository.name), repositoryTemplateValues(plan, manifest, repository, siblings)),
        author: manifest.git.author,
        message: plan.commitMessage,
        ...(withTag && repository.tag ? { tag: repository.tag } : {}),
      }),
      done: (repository, result) => {
        version.set(repository.name, { headSha: result.headSha, changedFiles: result.changedFiles });
        Object.assign(context.release.repository(repository.name), { headSha: result.headSha, changedFiles: result.changedFiles });
        if (result.tagged) {
          tag.set(repository.name, result.tagged.sha);
          context.release.repository(repository.name).tagSha = result.tagged.sha;
        }
        const notChecked = result.warnings?.length ? `; warning: ${result.warnings.join('; ')}` : '';
        return `${countOf(result.changedFiles.length, 'file')} versioned at ${result.headSha.slice(0, 12)}${result.tagged ? `, tagged ${result.tagged.tag}` : ''}${notChecked}`;
      },
    });
  },
};
