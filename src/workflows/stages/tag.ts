import { activity } from '../proxies';
import { mapWithLimit } from '../concurrency';
import { planOf, Stage } from '../stage';
import { fail, start, succeed } from '../tracker';

/** Annotated tags on the version commits, so CI runs on them. Patches are built from their branch. */
export const tagStage: Stage = {
  name: 'tag',
  skippable: false,
  skip: ({ request }) => (request.kind === 'patch' ? 'patches are built from the patch branch, not tags' : undefined),
  async run(context) {
    const plan = planOf(context);
    const { manifest } = context;
    await mapWithLimit(plan.repositories, manifest.git.parallelism, async (repository) => {
      const state = context.release.repository(repository.name);
      if (!repository.tag || state.tagSha) return;
      start(state, `tagging ${repository.tag}`);
      try {
        const result = await activity('tagRepository', { summary: `tag ${repository.name} ${repository.tag}` })({
          releaseId: context.release.state.releaseId,
          repository,
          tokenEnv: manifest.git.tokenEnv,
          tag: repository.tag,
          kind: plan.kind,
          sha: state.headSha as string,
          message: plan.commitMessage,
          author: manifest.git.author,
        });
        state.tagSha = result.sha;
        succeed(state, `tagged ${result.tag} at ${result.sha.slice(0, 12)}`);
      } catch (error) {
        fail(state, error);
        throw error;
      }
    });
  },
};
