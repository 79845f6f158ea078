import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { connectClient, connectWorker, temporalSettings } from '../../src/client/connection';
import { projectRoot } from '../../src/worker/tools';
import { ProductionServer, productionTools, serverTls } from '../support/productionServer';
import { freePort } from '../../src/dev/temporalServer';
import { systemServer } from '../support/systemServer';
import { tempDir } from '../support/temporal';

/**
 * The Temporal connection of docker-compose.yml, for real: the certificates of
 * scripts/gen-certs.sh, the Temporal server on PostgreSQL requiring client
 * certificates on its frontend and between its services (the system layer's
 * shared server), and relflow's own connection settings (TEMPORAL_TLS_* as the
 * compose file passes them).
 */
describe('mutual TLS between relflow and the Temporal frontend (scripts/gen-certs.sh, the production server)', function () {
  this.timeout(300_000);
  let certs: string;
  let server: ProductionServer;

  before(async function () {
    ({ certs, server } = await systemServer());
  });

  it('a worker certificate of the CA connects with relflow’s settings; no certificate, another CA or plaintext is refused', async function () {
    const env = {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: 'temporal-system',
      TEMPORAL_TLS_CLIENT_CERT_PATH: join(certs, 'worker.pem'),
      TEMPORAL_TLS_CLIENT_KEY_PATH: join(certs, 'worker.key'),
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(certs, 'ca.pem'),
      TEMPORAL_TLS_SERVER_NAME: 'temporal',
    };
    const client = await connectClient(temporalSettings(env));
    const described = await client.workflowService.describeNamespace({ namespace: 'temporal-system' });
    assert.equal(described.namespaceInfo?.name, 'temporal-system');
    await client.connection.close();
    // The worker's native connection (the SDK's Rust core) takes the same settings.
    const worker = await connectWorker(temporalSettings(env));
    await worker.close();

    const refused = async (options: Parameters<typeof Connection.connect>[0], what: string) => {
      const attempt = Connection.connect({ ...options, address: server.address, connectTimeout: 5000 }).then(async (connection) => {
        try {
          await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
        } finally {
          await connection.close();
        }
      });
      await assert.rejects(attempt, Error, what);
    };
    const { clientCertPair: _pair, ...withoutCertificate } = serverTls(certs, 'worker') as object as Record<string, unknown>;
    await refused({ tls: withoutCertificate }, 'no client certificate');
    await refused({}, 'plaintext');
    const other = join(tempDir('mtls-other'), 'certs');
    execFileSync('sh', [join(projectRoot, 'scripts', 'gen-certs.sh'), other], { encoding: 'utf8' });
    const ours = serverTls(certs, 'worker') as { clientCertPair?: unknown };
    const theirs = serverTls(other, 'worker') as { clientCertPair?: unknown };
    await refused({ tls: { ...ours, clientCertPair: theirs.clientCertPair } as never }, 'a client certificate of another CA');
  });

  it("the Web UI's server without Docker (deploy/temporal-ui/production.yaml) reaches the server with the ui certificate and lists its namespaces", async function () {
    const port = await freePort();
    const ui = spawn(
      productionTools().temporalUiServer,
      ['--root', join(projectRoot, 'deploy'), '--config', 'temporal-ui', '--env', 'production', 'start'],
      {
        env: {
          PATH: process.env.PATH,
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_UI_PORT: String(port),
          TEMPORAL_TLS_CA: join(certs, 'ca.pem'),
          TEMPORAL_TLS_CERT: join(certs, 'ui.pem'),
          TEMPORAL_TLS_KEY: join(certs, 'ui.key'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    ui.stdout.on('data', (chunk) => (output += chunk));
    ui.stderr.on('data', (chunk) => (output += chunk));
    try {
      let body = '';
      for (let attempt = 0; attempt < 100 && !body.includes('temporal-system'); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        body = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces`)
          .then((response) => response.text())
          .catch(() => '');
      }
      assert.ok(
        body.includes('temporal-system'),
        `the UI server lists the namespaces over mutual TLS: ${body.slice(0, 300)}\n${output.slice(-2000)}`,
      );
      const settings = (await (await fetch(`http://127.0.0.1:${port}/api/v1/settings`)).json()) as { DisableWriteActions?: boolean };
      assert.equal(settings.DisableWriteActions, true, 'read-only, as in docker-compose');
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i, 'the UI itself is served');
    } finally {
      ui.kill('SIGTERM');
    }
  });
});
