import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { connectClient, connectWorker, temporalSettings } from '../../src/client/connection';
import { projectRoot } from '../../src/worker/tools';
import { ProductionServer, serverTls } from '../support/productionServer';
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
});
