import { stopServices } from '../src/dev/localServices';
import { useTestSecrets } from './support/secrets';
import { stopSystemServer } from './support/systemServer';
import { removeTempDirs, startTestServer, stopTestServer } from './support/temporal';

useTestSecrets();

/** Mocha global fixtures: one Temporal dev server for the whole run; the system layer's server, if a test booted it, stops at the end. */
export async function mochaGlobalSetup(): Promise<void> {
  await startTestServer();
}

export async function mochaGlobalTeardown(): Promise<void> {
  stopServices();
  await stopSystemServer();
  await stopTestServer();
  removeTempDirs();
}
