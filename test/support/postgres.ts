import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/worker/tools';

/** The PostgreSQL major version of scripts/versions.json: the harness runs it, docker-compose.yml pins it. */
export function postgresMajor(): string {
  return (JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8')) as { postgresql: string }).postgresql;
}

/**
 * The directory of initdb, pg_ctl and postgres of that major version: Debian's
 * postgresql-N package, installed with apt-get when it is missing and this
 * machine can (root with apt-get), as the browser test installs Chromium.
 */
export function postgresBinDir(major = postgresMajor()): string {
  const dir = `/usr/lib/postgresql/${major}/bin`;
  if (existsSync(join(dir, 'pg_ctl'))) return dir;
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!canInstall)
    throw new Error(`PostgreSQL ${major} is not installed (${dir}) and apt-get cannot run here: install postgresql-${major}`);
  process.stdout.write(`[postgres] installing Debian postgresql-${major}\n`);
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', '--no-install-recommends', `postgresql-${major}`],
  ]) {
    const result = spawnSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (result.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed: PostgreSQL ${major} is needed for the production topology`);
  }
  return dir;
}

export interface PostgresCluster {
  port: number;
  dataDir: string;
  /** The user Temporal connects as (trust authentication on 127.0.0.1 only). */
  user: string;
  start(): void;
  /** `pg_ctl stop -m fast`, or `immediate` (a crash: no checkpoint, recovery at the next start). */
  stop(mode?: 'fast' | 'immediate'): void;
  version(): string;
  /** Stops the cluster and deletes its directory. */
  remove(): void;
}

/**
 * A PostgreSQL cluster of its own, in a private directory on a free port,
 * never the system's cluster. initdb refuses to run as root: as root, the
 * cluster belongs to the `postgres` user of the Debian package.
 */
export function createPostgresCluster(port: number): PostgresCluster {
  const bin = postgresBinDir();
  const asRoot = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'relflow-postgres-'));
  const dataDir = join(dir, 'data');
  if (asRoot) {
    const owner = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const group = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(owner), Number(group));
  }
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : join(bin, tool);
    const argv = asRoot ? ['-u', 'postgres', '--', join(bin, tool), ...args] : args;
    const result = spawnSync(command, argv, { encoding: 'utf8', cwd: dir });
    if (result.status !== 0) {
      const log = existsSync(join(dir, 'postgres.log')) ? readFileSync(join(dir, 'postgres.log'), 'utf8').slice(-2000) : '';
      throw new Error(`${tool} ${args.join(' ')} failed: ${result.stdout}${result.stderr}\n${log}`);
    }
    return result.stdout;
  };
  const user = 'temporal';
  run('initdb', ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200`;
  const cluster: PostgresCluster = {
    port,
    dataDir,
    user,
    start: () => void run('pg_ctl', ['-D', dataDir, '-o', options, '-l', join(dir, 'postgres.log'), '-w', '-t', '60', 'start']),
    stop: (mode = 'fast') => {
      if (existsSync(join(dataDir, 'postmaster.pid'))) run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', 'stop']);
    },
    version: () => run('postgres', ['--version']).trim(),
    remove: () => {
      cluster.stop('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cluster.start();
  return cluster;
}
