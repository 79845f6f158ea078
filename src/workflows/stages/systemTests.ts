import { durationMs } from '../../config/duration';
import { activity } from '../proxies';
import type { Stage } from '../stage';

/** System tests on the built artifacts; skipped when CI failed, as the original flow did. */
export const systemTestsStage: Stage = {
  name: 'system-tests',
  skippable: true,
  skip: (context) => {
    if (!context.manifest.systemTests) return 'no system tests configured';
    const ci = context.results.ci;
    if (ci && !ci.passed) return `CI failed: ${ci.detail}`;
    return undefined;
  },
  async run(context) {
    const systemTests = context.manifest.systemTests as NonNullable<typeof context.manifest.systemTests>;
    const runSystemTests = activity('runSystemTests', { startToCloseTimeout: durationMs(systemTests.timeout) + 10 * 60_000 });
    const files = [...[...context.results.artifacts.values()].flat(), ...context.results.stored];
    const result = await runSystemTests({ systemTests, releaseId: context.release.state.releaseId, files });
    context.results.systemTests = { passed: result.passed, detail: result.detail };
    context.release.state.systemTests = result;
    return result.passed ? { detail: result.detail } : { failed: result.detail };
  },
};
