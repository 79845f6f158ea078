import { mapWithLimit } from '../release/concurrency';
import { releasedTagAdvice, ReleasePlan } from '../release/plan';
import { remoteRefs } from './gitWorkspace';

/**
 * What stops a release at its remotes, checked with one `git ls-remote` per
 * repository (parallelism at a time), in manifest order: a remote that does
 * not answer, a base branch that does not exist, a release tag that belongs to
 * an earlier release (it exists while this release's build branch does not).
 * Run by `relflow start` before it starts anything, and by the preflight on the worker.
 * `tokenFor` names the secret sent to a remote, if any.
 */
export async function remoteProblems(
  plan: ReleasePlan,
  env: NodeJS.ProcessEnv,
  tokenFor: (url: string) => string | undefined,
  parallelism: number,
): Promise<string[]> {
  const problems = await mapWithLimit(plan.repositories, parallelism, async (repository, index) => {
    const base = `refs/heads/${repository.baseBranch}`;
    const build = `refs/heads/${repository.buildBranch}`;
    const tag = repository.tag && `refs/tags/${repository.tag}`;
    let refs: Map<string, string>;
    try {
      refs = await remoteRefs(repository.url, [base, build, ...(tag ? [tag] : [])], env, tokenFor(repository.url));
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).trim().split('\n').filter(Boolean).slice(-1)[0];
      return `repositories[${index}].url: cannot reach '${repository.url}': ${reason}`;
    }
    if (!refs.has(base)) {
      const from = repository.stream === 'plugins' ? repository.version : repository.version.replace(/\.\d+$/, '');
      const hint =
        plan.kind === 'patch'
          ? `; a patch is made on a branch you create first, e.g. from the GA tag: git push ${repository.url} ${from}^{commit}:${base}`
          : '';
      return `repositories[${index}] (${repository.name}): branch '${repository.baseBranch}' does not exist on ${repository.url}${hint}`;
    }
    if (tag && refs.has(tag) && !refs.has(build)) {
      return `repositories[${index}] (${repository.name}): tag '${repository.tag}' already exists on ${repository.url}: ${releasedTagAdvice(repository, plan.kind)}`;
    }
    return undefined;
  });
  return problems.filter((problem): problem is string => Boolean(problem));
}
