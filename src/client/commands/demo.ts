import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { UserError } from '../../release/errors';
import { dateStamp } from '../../release/plan';
import type { ReleaseKind } from '../../release/version';
import { ensureTools, projectRoot, pythonTool } from '../../worker/tools';
import { isPortOpen } from '../../worker/temporalServer';
import { defaultWorkspaceDir, startWorkers } from '../../worker/worker';
import { connectClient, connectWorker, temporalSettings } from '../connection';
import { createDemoProduct, nextDemoGaVersion } from '../demoProduct';
import { formatRelease } from '../format';
import { prepareRelease, releaseState, startPreparedRelease } from '../releases';
import { DEFAULT_DB_FILE, installQuietRuntime, startDevEnvironment } from './dev';

const log = (line: string) => process.stdout.write(`[relflow demo] ${line}\n`);

async function runRelease(client: Client, configFile: string, kind: ReleaseKind, version?: string): Promise<{ releaseId: string; ok: boolean }> {
  const prepared = await prepareRelease({ kind, configFile, version, date: dateStamp(new Date()) });
  const releaseId = prepared.plan.releaseId;
  try {
    await startPreparedRelease(client, prepared);
    log(`started ${kind} release ${releaseId}`);
  } catch (error) {
    if (!(error instanceof UserError && /already exists/.test(error.message))) throw error;
    log(`${releaseId} already ran today; showing it again`);
  }
  await client.workflow.getHandle(releaseId).result().catch(() => undefined);
  const state = await releaseState(client, releaseId);
  process.stdout.write(`\n${formatRelease(state)}\n\n`);
  return { releaseId, ok: state.status === 'succeeded' };
}

/**
 * The first thing a new user runs: the embedded dev server and a worker, a
 * sandbox product under .relflow/demo, a nightly and a GA release of it.
 */
export async function demoCommand(): Promise<void> {
  installQuietRuntime();
  const started = Date.now();
  const tools = ensureTools();
  const settings = temporalSettings();
  const [host, port] = settings.address.split(':');
  let stopServer: (() => Promise<void>) | undefined;
  let uiUrl = 'http://localhost:8233';
  if (await isPortOpen(host, Number(port))) {
    log(`using the Temporal server already at ${settings.address}, with a worker of this process`);
    const connection = await connectWorker(settings);
    const workers = await startWorkers({ connection, namespace: settings.namespace, workspaceDir: defaultWorkspaceDir(), pythonBin: pythonTool(tools, 'python') });
    stopServer = async () => {
      await workers.stop();
      await connection.close();
    };
  } else {
    const environment = await startDevEnvironment({ uiPort: 8233, dbFile: DEFAULT_DB_FILE }, log);
    uiUrl = environment.server.uiUrl ?? uiUrl;
    stopServer = environment.stop;
  }
  try {
    const root = join(projectRoot, '.relflow', 'demo');
    const configFile = createDemoProduct(root);
    log(`sandbox product: ${join(root, 'remotes')} (manifest ${configFile})`);
    const client = await connectClient(settings);
    const nightly = await runRelease(client, configFile, 'nightly');
    const ga = await runRelease(client, configFile, 'ga', nextDemoGaVersion(root));
    log(`releases ${nightly.releaseId} and ${ga.releaseId} are in the Temporal Web UI at ${uiUrl} while \`npm start\` runs (state is kept in ${DEFAULT_DB_FILE})`);
    log(`demo finished in ${Math.round((Date.now() - started) / 1000)} s`);
    if (!nightly.ok || !ga.ok) throw new Error('a demo release did not succeed (see its state above)');
  } finally {
    await stopServer();
  }
}
