import { durationMs } from '../../config/duration';
import { activity } from '../proxies';
import { planOf, Stage } from '../stage';
import { releaseUntagged } from './tag';

/** Waits for unit and integration results on the tags. Red CI does not stop the release; it skips system tests and gates. */
export const ciStage: Stage = {
  name: 'ci',
  skippable: true,
  skip: ({ request, manifest }) => {
    if (releaseUntagged({ request, manifest })) return 'patches have no tags to test';
    if (manifest.ci.provider === 'none') return 'no CI provider configured (ci.provider: none)';
    return undefined;
  },
  async run(context) {
    const plan = planOf(context);
    const ci = context.manifest.ci;
    const timeout = ci.provider === 'none' ? 0 : durationMs(ci.timeout);
    const waitForCi = activity('waitForCi', { startToCloseTimeout: timeout + 10 * 60_000 });
    const result = await waitForCi({
      ci,
      targets: plan.repositories.map((repository) => ({
        repository: repository.name,
        tag: repository.tag as string,
        sha: context.results.tag.get(repository.name) as string,
      })),
    });
    for (const verdict of result.repositories) context.release.repository(verdict.repository).ci = verdict.result;
    context.results.ci = { passed: result.passed, detail: result.detail };
    context.release.state.ci = context.results.ci;
    return result.passed ? { detail: result.detail } : { failed: result.detail };
  },
};
