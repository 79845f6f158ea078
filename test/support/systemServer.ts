import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { ConnectionOptions } from '@temporalio/client';
import { freePort } from '../../src/dev/temporalServer';
import { projectRoot } from '../../src/worker/tools';
import { createPostgresCluster, PostgresCluster } from './postgres';
import { createTemporalSchema, ProductionServer, productionTools, serverTls, startProductionServer } from './productionServer';
import { tempDir } from './temporal';

/**
 * The system layer's one PostgreSQL cluster and Temporal server on it (deploy/temporal-server.yaml),
 * with mutual TLS as docker-compose.yml runs it (the certificates of
 * scripts/gen-certs.sh): booted by the first system test that asks, shared by
 * all of them (each topology in a namespace of its own), stopped by the global
 * teardown.
 */
export interface SystemServer {
  postgres: PostgresCluster;
  server: ProductionServer;
  /** The directory of ca.pem, server.pem and the client certificates. */
  certs: string;
  /** A client's TLS settings with the worker certificate. */
  tls: ConnectionOptions['tls'];
  /** relflow's connection variables (TEMPORAL_ADDRESS, TEMPORAL_TLS_*) for this server and `namespace`. */
  env(namespace: string): NodeJS.ProcessEnv;
}

let booting: Promise<SystemServer> | undefined;

export function systemServer(): Promise<SystemServer> {
  booting ??= boot();
  return booting;
}

async function boot(): Promise<SystemServer> {
  const root = tempDir('system-server');
  const certs = join(root, 'certs');
  execFileSync('sh', [join(projectRoot, 'scripts', 'gen-certs.sh'), certs], { encoding: 'utf8' });
  const tools = productionTools();
  const postgres = createPostgresCluster(await freePort());
  try {
    createTemporalSchema(tools, postgres);
    const server = await startProductionServer(tools, postgres, join(root, 'temporal'), { certs });
    return {
      postgres,
      server,
      certs,
      tls: serverTls(certs, 'worker'),
      env: (namespace) => ({
        TEMPORAL_ADDRESS: server.address,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_TLS_CLIENT_CERT_PATH: join(certs, 'worker.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: join(certs, 'worker.key'),
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(certs, 'ca.pem'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal',
      }),
    };
  } catch (error) {
    postgres.remove();
    throw error;
  }
}

/** For the global teardown: stops the server and removes its cluster, if a test booted them. */
export async function stopSystemServer(): Promise<void> {
  const running = booting;
  booting = undefined;
  const shared = await running?.catch(() => undefined);
  if (!shared) return;
  await shared.server.stop();
  shared.postgres.remove();
}
