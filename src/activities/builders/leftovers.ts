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

/** The entries of a directory; none when it is gone (a live worker on the same workspace may be removing its own build). */
function entriesOf(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Whether the process an owner file names still runs; undefined when the file went away meanwhile. */
function ownerAlive(file: string): boolean | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && processAlive(pid);
}

/** Removes the build directories whose owner process is gone; returns them. Directories that vanish meanwhile are skipped. */
export function sweepLeftoverBuilds(buildRoot: string): string[] {
  const removed: string[] = [];
  for (const release of entriesOf(buildRoot)) {
    if (!release.isDirectory()) continue;
    const releaseDir = join(buildRoot, release.name);
    for (const artifact of entriesOf(releaseDir)) {
      const dir = join(releaseDir, artifact.name);
      const owner = join(dir, OWNER_FILE);
      if (!artifact.isDirectory() || !existsSync(owner)) continue;
      if (ownerAlive(owner) !== false) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    }
    if (entriesOf(releaseDir).length === 0) rmSync(releaseDir, { recursive: true, force: true });
  }
  return removed;
}

/**
 * Removes the temporary directories `<prefix>-<pid>-...` in `root` whose process is gone (a worker
 * killed during twine); returns them. Those of running processes, and names without a pid, stay.
 */
export function sweepLeftoverTempDirs(root: string, prefix: string): string[] {
  const removed: string[] = [];
  const pattern = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-`);
  for (const entry of entriesOf(root)) {
    const pid = Number(pattern.exec(entry.name)?.[1]);
    if (!entry.isDirectory() || !Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
    rmSync(join(root, entry.name), { recursive: true, force: true });
    removed.push(join(root, entry.name));
  }
  return removed;
}
