import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, ConnectionOptions } from '@temporalio/client';
import { durationMs } from '../../src/config/duration';
import { setUpNamespace } from '../../src/client/namespaceSetup';
import { stringify } from 'yaml';
import { createServer } from 'node:net';
import { DYNAMIC_CONFIG_FILE, freePort, isPortOpen } from '../../src/dev/temporalServer';
import { projectRoot } from '../../src/worker/tools';
import { PostgresCluster } from './postgres';

/** The binaries `node scripts/bootstrap.mjs --production` builds into the relflow cache. */
export interface ProductionTools {
  temporalServer: string;
  temporalSqlTool: string;
  toxiproxy: string;
  temporalCli: string;
}

export function productionTools(): ProductionTools {
  const file = join(projectRoot, '.relflow', 'tools.json');
  const read = () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<ProductionTools>) : {});
  let tools = read();
  const built = (binary: string | undefined) => binary !== undefined && existsSync(binary);
  if (!built(tools.temporalServer) || !built(tools.toxiproxy)) {
    const result = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'bootstrap.mjs'), '--production'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0) throw new Error('node scripts/bootstrap.mjs --production failed (see above)');
    tools = read();
  }
  return tools as ProductionTools;
}

const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
type TemporalService = (typeof TEMPORAL_SERVICES)[number];

export interface ProductionServer {
  address: string;
  process?: ChildProcess;
  /** SIGKILL of the server. */
  kill(): void;
  /** Starts what is not running, on the same ports and database. */
  start(): Promise<void>;
  stop(): Promise<void>;
  log: string;
}

function sqlTool(tools: ProductionTools, cluster: PostgresCluster, database: string, args: string[]): void {
  const argv = [
    '--plugin',
    'postgres12',
    '--ep',
    '127.0.0.1',
    '-p',
    String(cluster.port),
    '-u',
    cluster.user,
    '--pw',
    'unused',
    '--db',
    database,
    ...args,
  ];
  const result = spawnSync(tools.temporalSqlTool, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`temporal-sql-tool ${argv.join(' ')} failed:\n${result.stdout}${result.stderr}`);
}

/** Both databases of the Temporal server, with the schema embedded in temporal-sql-tool (postgresql/v12). */
export function createTemporalSchema(tools: ProductionTools, cluster: PostgresCluster): void {
  for (const [database, schema] of [
    ['temporal', 'postgresql/v12/temporal'],
    ['temporal_visibility', 'postgresql/v12/visibility'],
  ]) {
    sqlTool(tools, cluster, database, ['create-database']);
    sqlTool(tools, cluster, database, ['setup-schema', '-v', '0.0']);
    sqlTool(tools, cluster, database, ['update-schema', '--schema-name', schema]);
  }
}

interface ServicePorts {
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

/** The server's config, after config/development-postgres12.yaml of the module, on free ports and this cluster. */
/**
 * Mutual TLS on the frontend and between the services, with the certificates of
 * scripts/gen-certs.sh: as docker-compose.yml configures the server through the
 * auto-setup image's TEMPORAL_TLS_* variables.
 */
function tlsConfig(certs: string): object {
  const side = {
    server: {
      certFile: join(certs, 'server.pem'),
      keyFile: join(certs, 'server.key'),
      requireClientAuth: true,
      clientCaFiles: [join(certs, 'ca.pem')],
    },
    client: { serverName: 'temporal', rootCaFiles: [join(certs, 'ca.pem')] },
  };
  return { internode: side, frontend: side };
}

function serverConfig(
  cluster: PostgresCluster,
  ports: Record<TemporalService, ServicePorts>,
  dynamicConfig: string,
  certs?: string,
): object {
  const datastore = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `127.0.0.1:${cluster.port}`,
      connectProtocol: 'tcp',
      user: cluster.user,
      password: 'unused',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: 4,
      datastores: { 'postgres-default': datastore('temporal', 20), 'postgres-visibility': datastore('temporal_visibility', 4) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' }, ...(certs ? { tls: tlsConfig(certs) } : {}) },
    services: Object.fromEntries(TEMPORAL_SERVICES.map((service) => [service, { rpc: { ...ports[service], bindOnLocalHost: true } }])),
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: {
        active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend.grpcPort}` },
      },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfig, pollInterval: '10s' },
  };
}

/**
 * A free port the server can keep in its cluster membership table, whose port
 * column is a smallint: below 32768, where the kernel's ephemeral ports (what
 * freePort gets) do not start.
 */
async function membershipPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The Temporal server 1.29 on PostgreSQL, its four services (frontend, history, matching, worker) in one process. */
export async function startProductionServer(
  tools: ProductionTools,
  cluster: PostgresCluster,
  dir: string,
  options: { certs?: string } = {},
): Promise<ProductionServer> {
  const ports = {} as Record<TemporalService, ServicePorts>;
  for (const service of TEMPORAL_SERVICES) ports[service] = { grpcPort: await membershipPort(), membershipPort: await membershipPort() };
  ports.frontend.httpPort = await freePort();
  mkdirSync(join(dir, 'config', 'dynamicconfig'), { recursive: true });
  const dynamicConfig = join(dir, 'config', 'dynamicconfig', 'relflow.yaml');
  copyFileSync(DYNAMIC_CONFIG_FILE, dynamicConfig);
  writeFileSync(join(dir, 'config', 'production.yaml'), stringify(serverConfig(cluster, ports, dynamicConfig, options.certs)));
  const tls = options.certs ? serverTls(options.certs, 'worker') : undefined;
  const log = join(dir, 'server.log');
  const address = `127.0.0.1:${ports.frontend.grpcPort}`;
  const server: ProductionServer = {
    address,
    log,
    kill: () => {
      server.process?.kill('SIGKILL');
      server.process = undefined;
    },
    start: async () => {
      if (!server.process) {
        const out = openSync(log, 'a');
        const args = ['--root', dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'];
        server.process = spawn(tools.temporalServer, args, { stdio: ['ignore', out, out] });
        closeSync(out);
      }
      const child = server.process;
      await waitForFrontend(address, log, () => child.exitCode !== null, tls);
    },
    stop: async () => {
      const child = server.process;
      server.process = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      });
    },
  };
  await server.start();
  return server;
}

/** Waits until the frontend answers the health check and the system namespace is served. */
/** A client's TLS settings for a server of scripts/gen-certs.sh certificates, with the named client certificate. */
export function serverTls(certs: string, client: string): ConnectionOptions['tls'] {
  return {
    serverNameOverride: 'temporal',
    serverRootCACertificate: readFileSync(join(certs, 'ca.pem')),
    clientCertPair: { crt: readFileSync(join(certs, `${client}.pem`)), key: readFileSync(join(certs, `${client}.key`)) },
  };
}

async function waitForFrontend(address: string, log: string, exited: () => boolean, tls?: ConnectionOptions['tls']): Promise<void> {
  const [host, port] = [address.split(':')[0], Number(address.split(':')[1])];
  const deadline = Date.now() + 120_000;
  let last = '';
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the Temporal server exited before it served ${address}\n${tail(log)}`);
    if (await isPortOpen(host, port)) {
      const connection = await Connection.connect({ address, connectTimeout: 2000, tls }).catch((error: Error) => {
        last = error.message;
        return undefined;
      });
      if (connection) {
        try {
          await connection.workflowService.describeNamespace({ namespace: 'temporal-system' });
          return;
        } catch (error) {
          last = (error as Error).message;
        } finally {
          await connection.close();
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the Temporal server did not serve ${address} within 120 s (${last})\n${tail(log)}`);
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-20).join('\n') : '';
}

/** The namespace and relflow's search attributes, as `relflow setup-namespace` makes them. */
export async function prepareNamespace(address: string, namespace: string, tls?: ConnectionOptions['tls']): Promise<void> {
  const connection = await Connection.connect({ address, tls });
  try {
    await setUpNamespace(connection, namespace, durationMs('1d'));
  } finally {
    await connection.close();
  }
}
