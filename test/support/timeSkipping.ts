import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { projectRoot } from '../../src/worker/tools';
import { searchAttributeTypes } from '../../src/client/namespaceSetup';

/** The launcher of Temporal's time-skipping test server that `node scripts/bootstrap.mjs --time-skipping` puts in the cache. */
export function timeSkippingServer(): string {
  const file = join(projectRoot, '.relflow', 'tools.json');
  const read = () =>
    existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { timeSkippingServer?: string }).timeSkippingServer : undefined;
  let launcher = read();
  if (!launcher || !existsSync(launcher)) {
    const result = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'bootstrap.mjs'), '--quiet', '--time-skipping'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0) throw new Error('node scripts/bootstrap.mjs --time-skipping failed (see above)');
    launcher = read();
  }
  if (!launcher || !existsSync(launcher)) throw new Error(`the bootstrap left no time-skipping test server in ${file}`);
  return launcher;
}

/**
 * @temporalio/testing's time-skipping environment on the bootstrapped Java
 * test server (never its download): a workflow's timers fire as soon as
 * nothing else is pending, so days of waiting take seconds.
 */
export async function createTimeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const environment = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: timeSkippingServer() } },
  });
  // The release workflow upserts relflow's search attributes: the test server knows none until told.
  await environment.connection.operatorService.addSearchAttributes({
    namespace: 'default',
    searchAttributes: searchAttributeTypes(),
  });
  return environment;
}
