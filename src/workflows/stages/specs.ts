import { RepositoryPlan, specPlacements } from '../../release/plan';
import { activity } from '../proxies';
import { planOf, releaseCommit, Stage } from '../stage';
import { countOf } from '../../release/wording';

/** types.yaml and every plugin.yaml, as the version tool left them, under the release's storage layout. */
export const specsStage: Stage = {
  name: 'specs',
  skippable: true,
  skip: ({ manifest }) => {
    if (!manifest.storage) return 'no storage configured';
    if (!manifest.repositories.some((repository) => repository.typesYaml || repository.pluginYaml))
      return 'no repository names a types.yaml or plugin.yaml';
    return undefined;
  },
  async run(context) {
    const plan = planOf(context);
    const { manifest } = context;
    const storage = manifest.storage as NonNullable<typeof manifest.storage>;
    const files = specPlacements(plan, manifest).map((placement) => ({
      repository: plan.repositories.find((candidate) => candidate.name === placement.repository) as RepositoryPlan,
      sha: releaseCommit(context, placement.repository),
      path: placement.path,
      key: placement.key,
    }));
    const stored = await activity('uploadSpecs')({
      releaseId: context.release.state.releaseId,
      release: plan.releaseId,
      storage,
      files,
      tokenEnv: manifest.git.tokenEnv,
    });
    const results = context.results;
    results.stored = [...results.stored.filter((file) => !stored.some((candidate) => candidate.urls[0] === file.urls[0])), ...stored];
    context.release.state.stored = results.stored;
    return { detail: `${countOf(stored.length, 'spec file')} stored` };
  },
};
