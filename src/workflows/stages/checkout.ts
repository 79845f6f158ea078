import { mapWithLimit } from '../concurrency';
import { activity } from '../proxies';
import { planOf, Stage } from '../stage';
import { fail, start, succeed } from '../tracker';

/** Clones or fetches every repository and records the SHA the release starts from. */
export const checkoutStage: Stage = {
  name: 'checkout',
  skippable: false,
  skip: () => undefined,
  async run(context) {
    const plan = planOf(context);
    await mapWithLimit(plan.repositories, context.manifest.git.parallelism, async (repository) => {
      const state = context.release.repository(repository.name);
      if (state.baseSha) return;
      start(state, `fetching ${repository.baseBranch}`);
      try {
        const { baseSha, adopted } = await activity('checkoutRepository', {
          summary: `checkout ${repository.name} (${repository.baseBranch})`,
        })({
          releaseId: context.release.state.releaseId,
          repository,
          tokenEnv: context.manifest.git.tokenEnv,
          adoptBaseSha: context.request.adopt?.baseShas[repository.name],
        });
        state.baseSha = baseSha;
        succeed(
          state,
          `at ${baseSha.slice(0, 12)} of ${repository.baseBranch}${adopted ? `, continuing ${repository.buildBranch} of the earlier run` : ''}`,
        );
      } catch (error) {
        fail(state, error);
        throw error;
      }
    });
  },
};
