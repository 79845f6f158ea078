import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { insideRoot } from './paths';
import type { Manifest } from '../config/manifest';
import { durationMs } from '../config/duration';
import type { StoredFile } from '../release/model';
import { CommandTimeout, lastLines } from './process';
import { runSandboxedCommand, workerSandbox } from './builders/sandbox';
import { ApplicationFailure } from '@temporalio/common';

export interface SystemTestResult {
  passed: boolean;
  tests: number;
  failures: number;
  skipped: number;
  detail: string;
}

/** Counts of a JUnit XML report: the sum over its <testsuite> elements (or the one <testsuites> total). */
export function junitCounts(xml: string): { tests: number; failures: number; skipped: number } {
  const suites = [...xml.matchAll(/<testsuite\b([^>]*)>/g)].map((match) => match[1]);
  const attribute = (attributes: string, name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(attributes)?.[1] ?? 0);
  return suites.reduce(
    (total, attributes) => ({
      tests: total.tests + attribute(attributes, 'tests'),
      failures: total.failures + attribute(attributes, 'failures') + attribute(attributes, 'errors'),
      skipped: total.skipped + attribute(attributes, 'skipped'),
    }),
    { tests: 0, failures: 0, skipped: 0 },
  );
}

export function createSystemTestActivities(env: NodeJS.ProcessEnv) {
  const sandbox = workerSandbox(env);
  return {
    /** The configured command gets the artifacts manifest; its exit status and JUnit report decide. */
    async runSystemTests(input: {
      systemTests: NonNullable<Manifest['systemTests']>;
      releaseId: string;
      files: StoredFile[];
    }): Promise<SystemTestResult> {
      const dir = await mkdtemp(join(tmpdir(), 'relflow-system-tests-'));
      try {
        const manifestPath = join(dir, 'artifacts.json');
        await writeFile(manifestPath, JSON.stringify({ release: input.releaseId, files: input.files }, null, 2));
        const result = await runSandboxedCommand(sandbox, input.systemTests.command, {
          dir,
          env,
          variables: { RELFLOW_ARTIFACTS_MANIFEST: manifestPath, RELFLOW_RELEASE_ID: input.releaseId },
          timeoutMs: durationMs(input.systemTests.timeout),
          what: 'systemTests.command',
        }).catch((error: unknown) => {
          // Tests that ran out of time are not run again by themselves; a run cut short by a dead worker is.
          if (error instanceof CommandTimeout)
            throw ApplicationFailure.nonRetryable(`system tests: ${error.message}`, 'SystemTestsTimeout');
          throw error;
        });
        const junit = input.systemTests.junit && insideRoot(dir, input.systemTests.junit, 'systemTests.junit');
        const counts = junit && existsSync(junit) ? junitCounts(readFileSync(junit, 'utf8')) : { tests: 0, failures: 0, skipped: 0 };
        const passed = result.code === 0 && counts.failures === 0;
        const summary = `${counts.tests} tests, ${counts.failures} failed, ${counts.skipped} skipped`;
        return {
          passed,
          ...counts,
          detail: passed ? summary : `system tests failed (exit ${result.code}; ${summary}): ${lastLines(result.output, 3)}`,
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
