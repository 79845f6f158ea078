import { stopServices } from '../src/dev/localServices';
import { useTestSecrets } from './support/secrets';
import { removeTempDirs, startTestServer, stopTestServer } from './support/temporal';

useTestSecrets();

/** Mocha global fixtures: one Temporal dev server for the whole run. */
export async function mochaGlobalSetup(): Promise<void> {
  await startTestServer();
}

export async function mochaGlobalTeardown(): Promise<void> {
  stopServices();
  await stopTestServer();
  removeTempDirs();
}
