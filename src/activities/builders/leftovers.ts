import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Build directories are <buildRoot>/<release>/<artifact>, each with an owner
 * file naming the worker process that made it. A worker SIGKILLed mid-build
 * cannot tear its directory down, and its retry runs elsewhere: the next
 * worker to start on that workspace removes what a dead process owned.
 */
const OWNER_FILE = '.relflow-owner';

/** Marks `dir` (which exists) as this process's. */
export function claimBuildDir(dir: string): void {
  writeFileSync(join(dir, OWNER_FILE), `${process.pid}\n`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the build directories whose owner process is gone; returns them. */
export function sweepLeftoverBuilds(buildRoot: string): string[] {
  const removed: string[] = [];
  if (!existsSync(buildRoot)) return removed;
  for (const release of readdirSync(buildRoot, { withFileTypes: true })) {
    if (!release.isDirectory()) continue;
    const releaseDir = join(buildRoot, release.name);
    for (const artifact of readdirSync(releaseDir, { withFileTypes: true })) {
      const dir = join(releaseDir, artifact.name);
      const owner = join(dir, OWNER_FILE);
      if (!artifact.isDirectory() || !existsSync(owner)) continue;
      const pid = Number(readFileSync(owner, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
    if (readdirSync(releaseDir).length === 0) rmSync(releaseDir, { recursive: true, force: true });
  }
  return removed;
}
