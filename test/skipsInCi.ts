import type { Context, Suite, Test } from 'mocha';

function testsOf(suite: Suite): Test[] {
  return [...suite.tests, ...suite.suites.flatMap(testsOf)];
}

/**
 * With CI=true a skipped test fails the run: a test that skips because a tool is missing
 * (Chromium for the Web UI test) must not let CI be green without it. Loaded by every layer.
 */
export const mochaHooks = {
  afterAll(this: Context): void {
    if (process.env.CI !== 'true') return;
    let root = this.test?.parent;
    while (root?.parent) root = root.parent;
    const skipped = root ? testsOf(root).filter((test) => test.isPending()) : [];
    if (skipped.length === 0) return;
    throw new Error(
      `CI=true, and ${skipped.length} test(s) were skipped (a missing tool?): ${skipped.map((test) => test.fullTitle()).join('; ')}`,
    );
  },
};
