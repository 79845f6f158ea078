import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, ConnectionOptions } from '@temporalio/client';
import { durationMs } from '../../src/config/duration';
import { setUpNamespace } from '../../src/client/namespaceSetup';
import { createServer } from 'node:net';
import { DYNAMIC_CONFIG_FILE, freePort, isPortOpen } from '../../src/dev/temporalServer';
import { projectRoot } from '../../src/worker/tools';
import { PostgresCluster } from './postgres';

/** The binaries `node scripts/bootstrap.mjs --production` builds into the relflow cache. */
export interface ProductionTools {
  temporalServer: string;
  temporalSqlTool: string;
  temporalUiServer: string;
  toxiproxy: string;
  temporalCli: string;
}

export function productionTools(): ProductionTools {
  const file = join(projectRoot, '.relflow', 'tools.json');
  const read = () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<ProductionTools>) : {});
  let tools = read();
  const built = (binary: string | undefined) => binary !== undefined && existsSync(binary);
  if (!built(tools.temporalServer) || !built(tools.temporalUiServer) || !built(tools.toxiproxy)) {
    const result = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'bootstrap.mjs'), '--production'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (result.status !== 0) throw new Error('node scripts/bootstrap.mjs --production failed (see above)');
    tools = read();
  }
  return tools as ProductionTools;
}

const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
/** The server's configuration template an operator runs the server with. */
export const SERVER_CONFIG_FILE = join(projectRoot, 'deploy', 'temporal-server.yaml');
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

/** The connection of deploy/temporal-server.yaml and deploy/temporal-schema.sh to this cluster. */
function databaseEnv(cluster: PostgresCluster): NodeJS.ProcessEnv {
  return { POSTGRES_SEEDS: '127.0.0.1', DB_PORT: String(cluster.port), POSTGRES_USER: cluster.user, POSTGRES_PWD: 'unused' };
}

/** Both databases of the Temporal server, made by deploy/temporal-schema.sh as an operator runs it. */
export function createTemporalSchema(tools: ProductionTools, cluster: PostgresCluster): void {
  const script = join(projectRoot, 'deploy', 'temporal-schema.sh');
  const result = spawnSync('sh', [script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...databaseEnv(cluster), TEMPORAL_SQL_TOOL: tools.temporalSqlTool },
  });
  if (result.status !== 0) throw new Error(`deploy/temporal-schema.sh failed:\n${result.stdout}${result.stderr}`);
}

interface ServicePorts {
  grpcPort: number;
  membershipPort: number;
  httpPort?: number;
}

/**
 * The environment deploy/temporal-server.yaml reads: this cluster, free ports,
 * and with certificates mutual TLS on the frontend and between the services,
 * with the certificates of scripts/gen-certs.sh.
 */
function serverEnv(cluster: PostgresCluster, ports: Record<TemporalService, ServicePorts>, dynamicConfig: string, certs?: string) {
  return {
    ...databaseEnv(cluster),
    ...Object.fromEntries(
      TEMPORAL_SERVICES.flatMap((service) => [
        [`${service.toUpperCase()}_GRPC_PORT`, String(ports[service].grpcPort)],
        [`${service.toUpperCase()}_MEMBERSHIP_PORT`, String(ports[service].membershipPort)],
      ]),
    ),
    FRONTEND_HTTP_PORT: String(ports.frontend.httpPort),
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfig,
    ...(certs
      ? {
          TEMPORAL_TLS_CERT: join(certs, 'server.pem'),
          TEMPORAL_TLS_KEY: join(certs, 'server.key'),
          TEMPORAL_TLS_CA: join(certs, 'ca.pem'),
        }
      : {}),
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

/** The Temporal server on PostgreSQL (deploy/temporal-server.yaml), its four services in one process. */
export async function startProductionServer(
  tools: ProductionTools,
  cluster: PostgresCluster,
  dir: string,
  options: { certs?: string } = {},
): Promise<ProductionServer> {
  const ports = {} as Record<TemporalService, ServicePorts>;
  for (const service of TEMPORAL_SERVICES) ports[service] = { grpcPort: await membershipPort(), membershipPort: await membershipPort() };
  ports.frontend.httpPort = await freePort();
  mkdirSync(dir, { recursive: true });
  const environment = serverEnv(cluster, ports, DYNAMIC_CONFIG_FILE, options.certs);
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
        // As docs/production.md runs it: the repository's config template, rendered by the server from its environment.
        const args = ['--config-file', SERVER_CONFIG_FILE, '--allow-no-auth', 'start'];
        server.process = spawn(tools.temporalServer, args, {
          stdio: ['ignore', out, out],
          env: { PATH: process.env.PATH, ...environment },
        });
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
