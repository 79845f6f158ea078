import { join } from 'node:path';
import { projectRoot } from '../../src/worker/tools';

/** The suite's secrets file: every secret the test manifests name, allowed to loopback hosts only. */
export const TEST_SECRETS_FILE = join(projectRoot, 'test', 'secrets.yaml');

/** Workers started by this process (in it or as children) get the suite's secrets file, unless one is set. */
export function useTestSecrets(): void {
  process.env.RELFLOW_SECRETS ||= TEST_SECRETS_FILE;
}
