import { patched } from '@temporalio/workflow';
import { activity } from '../proxies';
import { takeReleasedWork } from '../releasedWork';
import { forEachRepository } from '../repositories';
import { planOf, Stage } from '../stage';
import { repositoryRules } from '../../release/versionRules';
import { repositoryTemplateValues } from '../../release/plan';
import { rulesAndValues, siblingValues } from '../../release/siblings';

/** Clones or fetches every repository, records the SHA the release starts from, and tries the version rules on it (nothing pushed yet). */
export const checkoutStage: Stage = {
  name: 'checkout',
  skippable: false,
  skip: () => undefined,
  async run(context) {
    const plan = planOf(context);
    const { storage } = context.manifest;
    const released = await takeReleasedWork(context);
    if (released) return { detail: released };
    // The release's build number, its first side effect (after the preflight): a re-run of the release ID gets the same one back.
    if (storage && plan.build === undefined && patched('build-numbers')) {
      const allocate = activity('allocateBuildNumber', { summary: `build number of ${context.release.state.releaseId}` });
      const { build } = await allocate({ storage, product: plan.product, releaseId: context.release.state.releaseId });
      plan.build = build;
      context.release.state.build = build;
    }
    const { checkout } = context.results;
    const siblings = siblingValues(context.manifest);
    await forEachRepository(context, {
      isDone: (repository) => checkout.has(repository.name),
      starting: (repository) => `fetching ${repository.baseBranch}`,
      activity: 'checkoutRepository',
      summary: (repository) => `checkout ${repository.name} (${repository.baseBranch})`,
      input: (repository) => ({
        releaseId: context.release.state.releaseId,
        repository,
        tokenEnv: context.manifest.git.tokenEnv,
        adoptBaseSha: context.request.adopt?.baseShas[repository.name],
        versionRules: rulesAndValues(
          repositoryRules(context.manifest, repository.name),
          repositoryTemplateValues(plan, context.manifest, repository, siblings),
        ),
      }),
      done: (repository, { baseSha, adopted, packageName }) => {
        checkout.set(repository.name, baseSha);
        context.release.repository(repository.name).baseSha = baseSha;
        if (packageName) context.release.repository(repository.name).packageName = packageName;
        return `at ${baseSha.slice(0, 12)} of ${repository.baseBranch}${adopted ? `, continuing ${repository.buildBranch} of the earlier run` : ''}`;
      },
    });
  },
};
