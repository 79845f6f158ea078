import { removeTempDirs } from './support/tempDirs';

/** Mocha global fixtures of the unit layer: no server, no tools; only the temporary directories are removed. */
export function mochaGlobalTeardown(): void {
  removeTempDirs();
}
