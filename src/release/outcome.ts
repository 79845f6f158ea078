import type { ReleaseState } from './model';

/** The release's end in words: `succeeded`, or `succeeded with rejected gates: docs (rejected by bob: stale)`, or its status. */
export function releaseOutcome(state: Pick<ReleaseState, 'status' | 'stages'>): string {
  const rejected = state.stages.filter((stage) => stage.status === 'rejected');
  if (state.status !== 'succeeded' || rejected.length === 0) return state.status;
  return `succeeded with rejected gates: ${rejected.map((stage) => `${stage.name} (${stage.detail ?? 'rejected'})`).join(', ')}`;
}

/** What the release published outside its storage: the PyPI files with their index page, and the ReadTheDocs builds. */
export function publicationLines(state: Pick<ReleaseState, 'repositories'>): string[] {
  const pypi = state.repositories
    .filter((repository) => repository.published?.length)
    .map(
      (repository) =>
        `PyPI: ${repository.name}: ${(repository.published ?? []).join(', ')}${repository.publishedAt ? ` (${repository.publishedAt})` : ''}`,
    );
  const docs = state.repositories
    .filter((repository) => repository.docs)
    .map((repository) =>
      repository.docsBuild
        ? `ReadTheDocs: ${repository.docsBuild.project} ${repository.docsBuild.version}: ${repository.docsBuild.detail} (build ${repository.docsBuild.buildId})`
        : `ReadTheDocs: ${repository.name}: ${repository.docs}`,
    );
  return [...pypi, ...docs];
}
