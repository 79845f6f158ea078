import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MissingSecret, readSecret, workerSecrets } from './secrets';
import { pathSegment } from './paths';
import { heartbeat, PROXY_VARIABLES, variablesOf } from './process';

/**
 * The persistent git workspace of a worker:
 *   <root>/mirrors/<name>-<hash of url>.git   a bare mirror per remote, fetched by each release
 *   <root>/releases/<releaseId>/<name>         a working copy per release, cloned with the mirror as reference
 * A second release fetches the mirror instead of cloning, and two releases of
 * the same product never share a working copy.
 */
export interface GitOptions {
  /** The environment variable holding an https token, sent to the host of the remote only. */
  tokenEnv?: string;
  /** The remote the token is for (its scheme, host and port scope the token). */
  url?: string;
}

/** A git directory to run commands in. */
export interface GitRepo {
  readonly dir: string;
  /** git with these arguments (never through a shell), these variables on top and this standard input; resolves with its stdout. */
  raw(args: string[], extraEnv?: NodeJS.ProcessEnv, input?: string | Buffer): Promise<string>;
  /** The same, for output that is not text (file contents). */
  rawBytes(args: string[], input?: string | Buffer): Promise<Buffer>;
  /** Fetches every branch and tag of origin. */
  fetch(): Promise<void>;
}

/** A git command that failed, with what git printed (never its environment, where a token may be). */
export class GitCommandError extends Error {
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
    this.name = 'GitCommandError';
  }
}

/**
 * Runs git directly (argv, never a shell). Inside an activity it heartbeats
 * every second while git runs, so a long clone, fetch or push keeps the
 * activity alive and a dead worker is noticed by its heartbeat timeout.
 */
export function runGit(dir: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<string> {
  return runGitBytes(dir, args, env, input).then((stdout) => stdout.toString('utf8'));
}

export function runGitBytes(dir: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const beat = setInterval(() => heartbeat({ git: args.find((arg) => !arg.startsWith('-') && !arg.includes('=')) }), 1000);
    const child = execFile('git', args, { cwd: dir, env, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      clearInterval(beat);
      const command = args.find((arg, index) => !arg.startsWith('-') && args[index - 1] !== '-c') ?? 'git';
      if (error)
        reject(
          new GitCommandError(
            command,
            `git ${command} failed: ${`${stdout.toString('utf8')}\n${stderr.toString('utf8')}`.trim() || error.message}`,
          ),
        );
      else resolve(stdout);
    });
    // A git that exits without reading its input closes the pipe: its exit status tells what went wrong.
    child.stdin?.on('error', () => undefined);
    if (input === undefined) child.stdin?.end();
    else child.stdin?.end(input);
  });
}

/** Plain git commands in `dir` (fetches, with progress heartbeats, need a GitWorkspace). */
export function gitAt(dir: string, env: NodeJS.ProcessEnv): Omit<GitRepo, 'fetch'> {
  return {
    dir,
    raw: (args, extraEnv, input) => runGit(dir, args, extraEnv ? { ...env, ...extraEnv } : env, input),
    rawBytes: (args, input) => runGitBytes(dir, args, env, input),
  };
}

/** A release's working copies go when git has not touched them for two weeks. */
export const WORKING_COPY_MAX_AGE_MS = 14 * 24 * 3600_000;

export class GitWorkspace {
  private readonly mirrorLocks = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /**
   * Removes the working copies of releases none of whose repositories git
   * touched for `maxAgeMs` (a worker start calls it): each is ~7 MB, and a
   * release that comes back clones again from the mirror. Returns the release
   * IDs removed.
   */
  pruneWorkingCopies(maxAgeMs = WORKING_COPY_MAX_AGE_MS, now = Date.now()): string[] {
    const releases = join(this.root, 'releases');
    if (!existsSync(releases)) return [];
    const removed: string[] = [];
    for (const release of readdirSync(releases)) {
      const dir = join(releases, release);
      const touched = [dir, ...readdirSync(dir).map((name) => join(dir, name, '.git'))]
        .filter((path) => existsSync(path))
        .map((path) => statSync(path).mtimeMs);
      if (now - Math.max(...touched) < maxAgeMs) continue;
      rmSync(dir, { recursive: true, force: true });
      removed.push(release);
    }
    return removed;
  }

  mirrorDir(name: string, url: string): string {
    const hash = createHash('sha256').update(url).digest('hex').slice(0, 10);
    return join(this.root, 'mirrors', `${name}-${hash}.git`);
  }

  workingCopyDir(releaseId: string, name: string): string {
    return join(this.root, 'releases', pathSegment(releaseId, 'release ID'), pathSegment(name, 'repository name'));
  }

  /** The environment git runs with for `url`: no prompt, and the token (when named) scoped to that remote's host. */
  environment(options: GitOptions = {}): NodeJS.ProcessEnv {
    return gitEnvironment(this.env, options.tokenEnv, options.url);
  }

  repo(dir: string, options: GitOptions = {}): GitRepo {
    const env = this.environment(options);
    return {
      ...gitAt(dir, env),
      fetch: async () => {
        await runGit(dir, ['fetch', '--prune', '--tags', '--force', 'origin'], env);
      },
    };
  }

  /**
   * A fresh working copy of `sha` at `dir` (for builds and packaging), cloned
   * from the release's working copy when this worker has one holding `sha` (it
   * made the version commit: no round trip to the remote), else from the
   * refreshed mirror.
   */
  async checkOutCommit(
    name: string,
    url: string,
    sha: string,
    dir: string,
    options: GitOptions & { releaseId?: string } = {},
  ): Promise<void> {
    const env = gitEnvironment(this.env);
    const release = options.releaseId ? this.workingCopyDir(options.releaseId, name) : undefined;
    const holdsSha =
      release && existsSync(join(release, '.git'))
        ? await runGit(release, ['cat-file', '-e', `${sha}^{commit}`], env).then(
            () => true,
            () => false,
          )
        : false;
    const source = holdsSha && release ? release : await this.refreshMirror(name, url, options);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dirname(dir), { recursive: true });
    await runGit(dirname(dir), ['clone', '--no-checkout', '--quiet', source, dir], env);
    await runGit(dir, ['checkout', '--quiet', '--detach', sha], env);
  }

  /** Clones the mirror, or fetches it when it is there; one at a time per mirror in this process. */
  async refreshMirror(name: string, url: string, options: GitOptions = {}): Promise<string> {
    const dir = this.mirrorDir(name, url);
    const previous = this.mirrorLocks.get(dir) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        const env = this.environment({ ...options, url });
        if (existsSync(join(dir, 'HEAD'))) {
          await runGit(dir, ['remote', 'update', '--prune'], env);
        } else {
          mkdirSync(join(this.root, 'mirrors'), { recursive: true });
          await runGit(this.root, ['clone', '--mirror', '--quiet', '--', url, dir], env);
        }
        return dir;
      });
    this.mirrorLocks.set(dir, next);
    try {
      return await next;
    } finally {
      if (this.mirrorLocks.get(dir) === next) this.mirrorLocks.delete(dir);
    }
  }

  /**
   * The release's working copy of a repository: on first use, a clone of the
   * mirror just refreshed (local, sharing its objects: the remote is asked
   * once, not twice) whose origin is then the remote; after that fetched from
   * its remote, or, with `fetch: false`, used as it is (the caller fetches
   * only what it lacks).
   */
  async workingCopy(releaseId: string, name: string, url: string, options: GitOptions & { fetch?: boolean } = {}): Promise<GitRepo> {
    const dir = this.workingCopyDir(releaseId, name);
    if (!existsSync(join(dir, '.git'))) {
      const mirror = await this.refreshMirror(name, url, options);
      mkdirSync(join(this.root, 'releases', releaseId), { recursive: true });
      const partial = `${dir}.partial-${process.pid}`;
      await rm(partial, { recursive: true, force: true });
      const env = gitEnvironment(this.env);
      await runGit(join(this.root, 'releases', releaseId), ['clone', '--shared', '--no-checkout', '--quiet', '--', mirror, partial], env);
      await runGit(partial, ['remote', 'set-url', 'origin', url], env);
      // Rename makes the clone appear whole or not at all, even after a crash mid-clone.
      if (existsSync(join(dir, '.git'))) await rm(partial, { recursive: true, force: true });
      else await rename(partial, dir);
    } else if (options.fetch !== false) {
      await this.repo(dir, { ...options, url }).fetch();
    }
    return this.repo(dir, { ...options, url });
  }
}

/** What git sees of the worker's environment; the rest (editors, pagers, hooks) stays out. */
const PASSED_TO_GIT = ['PATH', 'TMPDIR', 'SSH_AUTH_SOCK', ...PROXY_VARIABLES];

/**
 * Git runs with no terminal prompt and, when the manifest names a token for an
 * http(s) remote, with that token as an Authorization header scoped to the
 * remote's scheme, host and port (`http.<origin>/.extraHeader`, passed through
 * GIT_CONFIG_* variables): never in arguments, URLs or logs, and never sent to
 * another host (a redirect is refused; submodules and other remotes get no header).
 */
export function gitEnvironment(env: NodeJS.ProcessEnv, tokenEnv?: string, url?: string): NodeJS.ProcessEnv {
  const result: NodeJS.ProcessEnv = {
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    // No transport that runs a command a URL names (ext::, fd::): a remote is a place, never a program.
    GIT_ALLOW_PROTOCOL: 'file:git:http:https:ssh',
    ...variablesOf(env, PASSED_TO_GIT),
    // Only the configuration relflow gives: no global or system file (hooks paths, URL rewrites, credential
    // helpers), and a HOME where nothing can be planted (git takes ENOTDIR as "no such file"; ssh reads the
    // account's ~/.ssh from the password database, not from HOME).
    HOME: '/dev/null',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  const origin = tokenEnv && url ? httpOrigin(url) : undefined;
  const config: Array<[string, string]> = [];
  if (origin) {
    const token = readSecret(env, 'git.tokenEnv', tokenEnv, url as string) as string;
    const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
    config.push([`http.${origin}/.extraHeader`, `Authorization: Basic ${basic}`]);
    // git keeps a remote's headers when it follows a redirect: with a token, it follows none.
    config.push(['http.followRedirects', 'false']);
  }
  // A connection that stalls (a lost packet, a dead proxy) fails after 30 s under 1 kB/s instead of hanging
  // until the activity's hour is up: the activity heartbeats while git runs, so only git can notice.
  config.push(['http.lowSpeedLimit', '1000'], ['http.lowSpeedTime', '30']);
  // No hook runs, whoever wrote it: a hook is a program, and it would see this environment.
  config.push(['core.hooksPath', '/dev/null']);
  result.GIT_CONFIG_COUNT = String(config.length);
  config.forEach(([key, value], index) => {
    result[`GIT_CONFIG_KEY_${index}`] = key;
    result[`GIT_CONFIG_VALUE_${index}`] = value;
  });
  return result;
}

/**
 * For the CLI, which reads remotes before a release starts: the token's name
 * when the secrets file where it runs (RELFLOW_SECRETS) allows it for this URL
 * and its value is here; otherwise none, and the remote is read anonymously
 * (the token may well live on the workers only).
 */
export function tokenAllowedFor(env: NodeJS.ProcessEnv, tokenEnv: string | undefined, url: string): string | undefined {
  if (!tokenEnv || !httpOrigin(url)) return undefined;
  const secrets = workerSecrets(env);
  if (secrets.refusal('git.tokenEnv', tokenEnv, url)) return undefined;
  try {
    secrets.reveal('git.tokenEnv', tokenEnv, url);
    return tokenEnv;
  } catch (error) {
    if (error instanceof MissingSecret) return undefined;
    throw error;
  }
}

/** `https://host:port` of an http(s) remote URL; undefined for ssh, file and local paths. */
export function httpOrigin(url: string): string | undefined {
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return undefined;
  }
}

/**
 * The SHAs of these refs on a remote (absent refs are missing from the map; a tag's `^{}` entry is its commit);
 * throws when the remote is not reachable.
 */
export async function remoteRefs(
  url: string,
  refs: string[],
  env: NodeJS.ProcessEnv = process.env,
  tokenEnv?: string,
): Promise<Map<string, string>> {
  const output = await runGit(process.cwd(), ['ls-remote', '--', url, ...refs], gitEnvironment(env, tokenEnv, url));
  const found = new Map<string, string>();
  for (const line of output.split('\n').filter(Boolean)) {
    const [sha, ref] = line.split('\t');
    found.set(ref, sha);
  }
  return found;
}
