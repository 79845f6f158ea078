import { untaggedReason } from '../../release/plan';
import { forEachRepository } from '../repositories';
import { planOf, ReleaseContext, Stage } from '../stage';

/** Why a release has no tags (patches are built from their branch unless naming.tag.patch tags them). */
export function releaseUntagged({ request, manifest }: Pick<ReleaseContext, 'request' | 'manifest'>): string | undefined {
  return untaggedReason(request.kind, request.version, manifest);
}

/**
 * Annotated tags on the version commits, so CI runs on them. The version stage
 * pushes most of them with its branch; this stage sees to the rest (a tag the
 * remote already had, and releases from before that).
 */
export const tagStage: Stage = {
  name: 'tag',
  skippable: false,
  skip: releaseUntagged,
  async run(context) {
    const plan = planOf(context);
    const { manifest } = context;
    const { version, tag } = context.results;
    await forEachRepository(context, {
      repositories: (repositories) => repositories.filter((repository) => repository.tag),
      isDone: (repository) => tag.has(repository.name),
      starting: (repository) => `tagging ${repository.tag}`,
      activity: 'tagRepository',
      summary: (repository) => `tag ${repository.name} ${repository.tag}`,
      input: (repository) => ({
        releaseId: context.release.state.releaseId,
        repository,
        tokenEnv: manifest.git.tokenEnv,
        tag: repository.tag as string,
        kind: plan.kind,
        sha: version.get(repository.name)?.headSha as string,
        message: plan.commitMessage,
        author: manifest.git.author,
      }),
      done: (repository, result) => {
        tag.set(repository.name, result.sha);
        context.release.repository(repository.name).tagSha = result.sha;
        return `tagged ${result.tag} at ${result.sha.slice(0, 12)}`;
      },
    });
  },
};
