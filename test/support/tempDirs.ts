import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const madeTempDirs: string[] = [];

/** A fresh directory under the temp directory, removed by removeTempDirs (the test run's teardown). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `relflow-${prefix}-`));
  madeTempDirs.push(dir);
  return dir;
}

/** Every directory tempDir made in this process: a run of the suite leaves no gigabytes behind in the temp directory. */
export function removeTempDirs(): void {
  for (const dir of madeTempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
