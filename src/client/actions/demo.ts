import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { Client } from '@temporalio/client';
import { s3Client } from '../../activities/storage';
import { loadManifest } from '../../config/loadManifest';
import { UserError } from '../../config/errors';
import { dateStamp } from '../../release/plan';
import type { ReleaseKind } from '../../release/version';
import { motoEndpoint, startPypiServer, stopServices } from '../../dev/localServices';
import { ensureTools, projectRoot, pythonTool } from '../../worker/tools';
import { freePort, isPortOpen } from '../../dev/temporalServer';
import { startWorkers } from '../../worker/worker';
import type { GateName, ReleaseState } from '../../release/model';
import { connectClient, connectWorker, temporalSettings } from '../connection';
import { createDemoProduct, DEMO_ENV, nextDemoGaVersion } from '../../dev/demoProduct';
import { writeLoopbackSecretsFile } from '../../dev/secretsFile';
import { formatRelease } from '../format';
import { markdownReport, releaseReport } from '../../release/report';
import { startReadTheDocsApi } from '../../dev/localApi';
import { type Mailpit, startMailpit } from '../../dev/mailpit';
import { writeOutboxMessage } from '../../activities/notify';
import { countOf } from '../../release/wording';
import { prepareRelease, releaseState, startPreparedRelease } from '../releases';
import { defaultDevDbFile, defaultWorkspaceDir } from '../../config/project';
import { installQuietRuntime, startDevEnvironment } from './dev';

const log = (line: string) => process.stdout.write(`[relflow demo] ${line}\n`);

/** The demo's own task queues: a `relflow dev` worker without the demo's settings never takes its work. */
const DEMO_QUEUE = 'relflow-demo';

async function waitForState(client: Client, releaseId: string, predicate: (state: ReleaseState) => boolean): Promise<ReleaseState> {
  for (;;) {
    const state = await releaseState(client, releaseId);
    if (predicate(state)) return state;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

/**
 * The demo's release key (an Ed25519 SSH key made once in its directory) and
 * the allowed_signers file a downloader verifies its releases with.
 */
function demoReleaseKey(root: string): { key: string; allowedSigners: string } {
  const key = join(root, 'release_key');
  const allowedSigners = join(root, 'allowed_signers');
  if (!existsSync(key)) {
    mkdirSync(root, { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'relflow-release', '-f', key]);
  }
  writeFileSync(allowedSigners, `relflow-release ${readFileSync(`${key}.pub`, 'utf8').trim()}\n`);
  return { key, allowedSigners };
}

/** A person at the terminal runs `relflow <args>` (asynchronously: this process runs the workers that answer); its output is shown. */
async function relflowAtTerminal(args: string[], address: string): Promise<{ ok: boolean; failure?: string }> {
  log(`$ relflow ${args.join(' ')}`);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [join(projectRoot, 'bin', 'relflow'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, TEMPORAL_ADDRESS: address },
    });
    process.stdout.write(stdout);
    return { ok: true };
  } catch (error) {
    process.stdout.write(String((error as { stdout?: string }).stdout ?? ''));
    return { ok: false, failure: String((error as { stderr?: string }).stderr ?? error).trim() };
  }
}

/** What a downloader runs: `relflow verify <id> --allowed-signers FILE`; its table, and whether every check held. */
async function verifyWithCli(releaseId: string, allowedSigners: string, address: string): Promise<boolean> {
  const { ok, failure } = await relflowAtTerminal(['verify', releaseId, '--allowed-signers', allowedSigners, '--insecure-source'], address);
  if (!ok) log(`relflow verify failed: ${failure}`);
  return ok;
}

/** A person at the terminal: `relflow approve <id> <gate>`. */
async function approveWithCli(releaseId: string, gate: GateName, address: string): Promise<void> {
  const args = ['approve', releaseId, gate, '--by', 'release-engineer', '--comment', 'approved in the demo'];
  const { ok, failure } = await relflowAtTerminal(args, address);
  if (!ok) throw new UserError(`relflow approve failed: ${failure}`);
}

async function runRelease(
  client: Client,
  configFile: string,
  kind: ReleaseKind,
  address: string,
  versions: { version?: string; pluginsVersion?: string } = {},
): Promise<ReleaseState> {
  const prepared = await prepareRelease({
    kind,
    configFile,
    ...versions,
    date: dateStamp(new Date()),
    taskQueue: DEMO_QUEUE,
    buildTaskQueue: `${DEMO_QUEUE}-builds`,
  });
  const releaseId = prepared.plan.releaseId;
  const { started } = await startPreparedRelease(client, prepared);
  log(started ? `started ${kind} release ${releaseId}` : `${releaseId} already ran today; showing it again`);
  const approved = new Set<string>();
  for (;;) {
    const state = await waitForState(client, releaseId, (candidate) => candidate.status !== 'running');
    const open = state.gates.find((gate) => gate.status === 'open' && !approved.has(gate.name));
    if (open) {
      log(`the ${open.name} gate is open`);
      await approveWithCli(releaseId, open.name, address);
      approved.add(open.name);
      continue;
    }
    if (state.status === 'waiting') continue;
    process.stdout.write(`\n${formatRelease(state)}\n\n`);
    return state;
  }
}

/**
 * What Mailpit received, into the outbox directory as `.eml` files with their
 * HTML part beside them (`.eml.html`), named by the time Mailpit got them, so a
 * second export writes the same files. Mailpit's web UI is not in its Go module;
 * these are what a person opens. Returns how many there are.
 */
async function exportMails(mailpit: Mailpit, outbox: string): Promise<number> {
  const messages = await mailpit.messages();
  for (const summary of messages) {
    const message = await mailpit.message(summary.ID);
    await writeOutboxMessage(outbox, {
      subject: message.Subject,
      raw: await mailpit.raw(summary.ID),
      html: message.HTML || undefined,
      at: new Date(summary.Created),
    });
  }
  return messages.length;
}

/**
 * The first thing a new user runs: the embedded dev server and workers, moto as
 * S3, pypiserver as PyPI, a ReadTheDocs stand-in, Mailpit for email, a sandbox
 * product under .relflow/demo (or RELFLOW_DEMO_DIR); then a nightly and a GA release of it, with the
 * GA's gates approved through the CLI.
 */
export async function demoCommand(): Promise<void> {
  installQuietRuntime('ERROR');
  const started = Date.now();
  const tools = ensureTools();
  let settings = temporalSettings();
  const [host, port] = settings.address.split(':');
  const root = process.env.RELFLOW_DEMO_DIR || join(projectRoot, '.relflow', 'demo');
  let stopServer: (() => Promise<void>) | undefined;
  let uiUrl = 'http://localhost:8233';
  const readthedocs = await startReadTheDocsApi({ 'cloudify-docs': true });
  let mailpit: Mailpit | undefined;
  try {
    const s3Endpoint = await motoEndpoint();
    const pypiUrl = await startPypiServer(join(root, 'pypi'));
    mailpit = await startMailpit(tools.mailpit, join(root, 'mailpit'));
    log(
      `moto S3 at ${s3Endpoint}, pypiserver at ${pypiUrl}, ReadTheDocs stand-in at ${readthedocs.url}, Mailpit SMTP at 127.0.0.1:${mailpit.smtpPort} (API ${mailpit.api}/api/v1/messages)`,
    );
    const configFile = createDemoProduct(root, { s3Endpoint, pypiUrl, readthedocsApi: readthedocs.url, smtpPort: mailpit.smtpPort });
    // The demo's workers hold its secrets, and may send them to its local services only; they sign with its release key.
    const releaseKey = demoReleaseKey(root);
    const demoEnv = {
      ...process.env,
      ...DEMO_ENV,
      RELFLOW_SECRETS: writeLoopbackSecretsFile(join(root, 'secrets.yaml'), Object.keys(DEMO_ENV), { signingKey: releaseKey.key }),
      // The mirror is in the demo's directory.
      RELFLOW_LOCAL_ROOTS: root,
    };
    const storage = loadManifest(configFile).storage;
    if (storage) {
      // A release bucket downloaders read: public-read, as `relflow verify <release ID>` fetches over plain HTTP.
      const s3 = s3Client(storage, demoEnv);
      await s3.send(new CreateBucketCommand({ Bucket: storage.bucket }));
      const publicRead = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${storage.bucket}/*` };
      await s3.send(
        new PutBucketPolicyCommand({ Bucket: storage.bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: [publicRead] }) }),
      );
    }
    log(`sandbox product: ${join(root, 'remotes')} (manifest ${configFile})`);

    // A demo in a directory of its own (RELFLOW_DEMO_DIR) is an installation of its own:
    // its own server and state, on free ports when the defaults are taken.
    let viewCommand = 'npm start';
    let dbFile = defaultDevDbFile();
    const ownServer = Boolean(process.env.RELFLOW_DEMO_DIR) && !process.env.TEMPORAL_ADDRESS;
    if (!ownServer && (await isPortOpen(host, Number(port)))) {
      log(`using the Temporal server already at ${settings.address}`);
    } else {
      const frontend = (await isPortOpen(host, Number(port))) ? await freePort() : Number(port);
      const ui = (await isPortOpen(host, 8233)) ? await freePort() : 8233;
      if (frontend !== Number(port) || ui !== 8233)
        log(`ports ${port} and 8233 are taken on ${host}: this demo's server uses ${frontend} (Web UI ${ui})`);
      if (ownServer) {
        dbFile = join(root, 'temporal.db');
        viewCommand = `relflow dev --port ${frontend} --ui-port ${ui} --db-file ${dbFile}`;
      }
      const environment = await startDevEnvironment({ port: frontend, uiPort: ui, dbFile, workers: false }, log);
      uiUrl = environment.server.uiUrl ?? uiUrl;
      stopServer = environment.stop;
      settings = temporalSettings();
    }
    const connection = await connectWorker(settings);
    const workers = await startWorkers(
      {
        connection,
        namespace: settings.namespace,
        workspaceDir: defaultWorkspaceDir(),
        pythonBin: pythonTool(tools, 'python'),
        env: demoEnv,
      },
      [DEMO_QUEUE, `${DEMO_QUEUE}-builds`],
    );
    try {
      const client = await connectClient(settings);
      const nightly = await runRelease(client, configFile, 'nightly', settings.address);
      const ga = await runRelease(client, configFile, 'ga', settings.address, nextDemoGaVersion(root));
      process.stdout.write(`${markdownReport(releaseReport(ga))}\n`);
      const verified = await verifyWithCli(ga.releaseId, releaseKey.allowedSigners, settings.address);
      const mails = await exportMails(mailpit, join(root, 'outbox'));
      log(
        `${countOf(mails, 'mail')} received by Mailpit, written to ${join(root, 'outbox')}; artifacts mirrored under ${join(root, 'mirror')}; packages in ${join(root, 'pypi')}`,
      );
      log(
        `releases ${nightly.releaseId} and ${ga.releaseId} are in the Temporal Web UI at ${uiUrl} while \`${viewCommand}\` runs (state is kept in ${dbFile})`,
      );
      log(`demo finished in ${Math.round((Date.now() - started) / 1000)} s`);
      const announcements = readdirSync(join(root, 'outbox'))
        .filter((file) => file.endsWith('.eml.html'))
        .sort();
      log('open:');
      log(`  the Temporal Web UI   ${uiUrl}/namespaces/default/workflows/${ga.releaseId}`);
      if (announcements.length > 0) log(`  the GA announcement   file://${join(root, 'outbox', announcements[announcements.length - 1])}`);
      log(`  the mirrored files    file://${join(root, 'mirror')}`);
      if (nightly.status !== 'succeeded' || ga.status !== 'succeeded')
        throw new Error('a demo release did not succeed (see its state above)');
      if (!verified) throw new Error(`relflow verify ${ga.releaseId} failed (see above)`);
    } finally {
      await workers.stop();
      await connection.close();
    }
  } finally {
    await stopServer?.();
    mailpit?.stop();
    stopServices();
    await readthedocs.close();
  }
}

/** demo: the command of the CLI. */
