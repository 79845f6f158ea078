import { isPatchPrerelease } from '../../release/version';
import { forEachRepository } from '../repositories';
import { planOf, ReleaseContext, Stage } from '../stage';

/** Why a release has no tags: patches are built from their branch. */
export function untaggedReason({ request }: Pick<ReleaseContext, 'request'>): string | undefined {
  return request.kind === 'patch' && !isPatchPrerelease(request.kind, request.version)
    ? 'patches are built from the patch branch, not tags'
    : undefined;
}

/**
 * Annotated tags on the version commits, so CI runs on them. The version stage
 * pushes most of them with its branch; this stage sees to the rest (a tag the
 * remote already had, and releases from before that).
 */
export const tagStage: Stage = {
  name: 'tag',
  skippable: false,
  skip: untaggedReason,
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
