import { stopServices } from '../src/dev/localServices';
import { startTestServer, stopTestServer } from './support/temporal';

/** Mocha global fixtures: one Temporal dev server for the whole run. */
export async function mochaGlobalSetup(): Promise<void> {
  await startTestServer();
}

export async function mochaGlobalTeardown(): Promise<void> {
  stopServices();
  await stopTestServer();
}
