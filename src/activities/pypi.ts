import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../config/manifest';
import { gitAt, gitEnvironment, GitWorkspace } from './gitWorkspace';
import { insideRoot } from './paths';
import { lastLines, runProcess, scratchHome } from './process';
import { sandboxed, workerSandbox } from './builders/sandbox';
import { readSecret } from './secrets';
import { sha256File } from './storage';
import { sweepLeftoverTempDirs } from './builders/leftovers';

const PYPI_TEMP_PREFIX = 'relflow-pypi';

export interface PypiTarget {
  repository: { name: string; url: string };
  /** The release tag's commit (the build branch head for patches). */
  sha: string;
  packageDir: string;
}

export interface PypiResult {
  repository: string;
  /** The distribution name in the built metadata, and its page on the index. */
  project?: string;
  indexPage?: string;
  uploaded: string[];
  skipped: string[];
}

/** The simple index of the repository relflow uploads to (PEP 503). */
export function simpleIndexUrl(pypi: NonNullable<Manifest['pypi']>): string {
  if (pypi.indexUrl) return pypi.indexUrl.replace(/\/?$/, '/');
  const upload = new URL(pypi.repositoryUrl);
  if (upload.hostname === 'upload.pypi.org') return 'https://pypi.org/simple/';
  if (upload.hostname === 'test.pypi.org') return 'https://test.pypi.org/simple/';
  return `${pypi.repositoryUrl.replace(/\/+$/, '')}/simple/`;
}

/** The sha256 of each file the index lists on the project's page (PEP 503 links carry `#sha256=`), asked past any cache. */
/** A project's page on a simple index (PEP 503 names). */
function projectPage(indexUrl: string, project: string): string {
  return `${indexUrl}${project.toLowerCase().replace(/[-_.]+/g, '-')}/`;
}

async function indexDigests(indexUrl: string, project: string): Promise<Map<string, string>> {
  const url = projectPage(indexUrl, project);
  const response = await fetch(url, { headers: { 'cache-control': 'no-cache', pragma: 'no-cache' } });
  const digests = new Map<string, string>();
  if (response.status === 404) return digests;
  if (!response.ok) throw new Error(`PyPI index ${url} answered HTTP ${response.status}`);
  for (const match of (await response.text()).matchAll(/href="[^"#]*\/([^/"#]+)#sha256=([0-9a-f]{64})"/g))
    digests.set(decodeURIComponent(match[1]), match[2]);
  return digests;
}

/** The environment a build and twine see: no secrets, no HOME of the worker's, but its pip settings (index, proxy, certificates). */
function toolEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const passed = Object.entries(env).filter(([name]) =>
    /^(PIP_|https?_proxy$|HTTPS?_PROXY$|no_proxy$|NO_PROXY$|SSL_CERT_|REQUESTS_CA_BUNDLE$)/.test(name),
  );
  return { PATH: env.PATH, ...Object.fromEntries(passed), PIP_DISABLE_PIP_VERSION_CHECK: '1' };
}

/**
 * Builds without isolation only for a setuptools backend the Python has (fast, offline); any other backend
 * builds isolated, its requirements from pip's index.
 */
async function buildArguments(pythonBin: string, sourceDir: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const pyproject = await readFile(join(sourceDir, 'pyproject.toml'), 'utf8').catch(() => '');
  const backend = /^\s*build-backend\s*=\s*["']([^"']+)["']/m.exec(pyproject)?.[1];
  if (backend && !backend.startsWith('setuptools.build_meta')) return [];
  // -I: the package's own directory is not on sys.path, so a setuptools.py of the repository is not what is imported.
  const probe = await runProcess([pythonBin, '-I', '-c', 'import setuptools, wheel'], { cwd: sourceDir, env, timeoutMs: 60_000 });
  return probe.code === 0 ? ['--no-isolation'] : [];
}

/** The distribution name in the built metadata (a wheel's METADATA, else an sdist's PKG-INFO). */
async function distributionName(pythonBin: string, dist: string, files: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const script = [
    'import sys, zipfile, tarfile, email',
    'path = sys.argv[1]',
    'if path.endswith(".whl"):',
    '    z = zipfile.ZipFile(path); text = z.read(next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))).decode()',
    'else:',
    '    t = tarfile.open(path); text = t.extractfile(next(m for m in t.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"))).read().decode()',
    'print(email.message_from_string(text)["Name"])',
  ].join('\n');
  const file = files.find((candidate) => candidate.endsWith('.whl')) ?? files[0];
  const result = await runProcess([pythonBin, '-I', '-c', script, join(dist, file)], { cwd: dist, env, timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`cannot read the package name from ${file}: ${lastLines(result.output)}`);
  return result.output.trim().split('\n').slice(-1)[0];
}

/**
 * sdist and wheel with `python -m build` (SOURCE_DATE_EPOCH is the commit's
 * time), then `twine upload` of the files the index (asked past its cache, by
 * the name in the built metadata) does not list yet, and a check that the index
 * lists each uploaded file with its sha256: a re-run uploads nothing twice.
 */
export function createPypiActivities(workspace: GitWorkspace, pythonBin: string, env: NodeJS.ProcessEnv) {
  sweepLeftoverTempDirs(tmpdir(), PYPI_TEMP_PREFIX);
  const sandbox = workerSandbox(env);
  return {
    async publishPythonPackage(input: { pypi: NonNullable<Manifest['pypi']>; target: PypiTarget; tokenEnv?: string }): Promise<PypiResult> {
      const { pypi, target } = input;
      const username = readSecret(env, 'pypi.usernameEnv', pypi.usernameEnv, pypi.repositoryUrl);
      const password = readSecret(env, 'pypi.passwordEnv', pypi.passwordEnv, pypi.repositoryUrl);
      // The pid in the name lets the next worker remove what this one leaves if it is killed mid-upload.
      const dir = await mkdtemp(join(tmpdir(), `${PYPI_TEMP_PREFIX}-${process.pid}-${target.repository.name}-`));
      try {
        const source = join(dir, 'src');
        await workspace.checkOutCommit(target.repository.name, target.repository.url, target.sha, source, { tokenEnv: input.tokenEnv });
        const committed = (await gitAt(source, gitEnvironment(env)).raw(['show', '-s', '--format=%ct', 'HEAD'])).trim();
        const base = { ...toolEnvironment(env), HOME: scratchHome(dir), SOURCE_DATE_EPOCH: committed };
        const packageDir = insideRoot(source, target.packageDir, 'pypi.packageDir');
        const dist = join(dir, 'dist');
        // The package's setup.py is the repository's code: it runs in the sandbox, with the network pip needs.
        const argv = [
          pythonBin,
          '-m',
          'build',
          ...(await buildArguments(pythonBin, packageDir, base)),
          '--sdist',
          '--wheel',
          '--outdir',
          dist,
          packageDir,
        ];
        const build = await runProcess(
          sandboxed(sandbox, argv, { buildDir: dir, cwd: dir, env: base, network: true, what: 'pypi', readable: [dirname(pythonBin)] }),
          { cwd: dir, env: base, timeoutMs: 30 * 60_000 },
        );
        if (build.code !== 0) throw new Error(`${target.repository.name}: python -m build failed: ${lastLines(build.output)}`);
        const files = (await readdir(dist)).sort();
        const project = await distributionName(pythonBin, dist, files, base);
        const index = simpleIndexUrl(pypi);
        const before = await indexDigests(index, project);
        const missing = files.filter((file) => !before.has(file));
        if (missing.length > 0) {
          // Credentials go through twine's environment variables, never its arguments. (twine's --skip-existing
          // is refused for indexes other than pypi.org: the index itself is asked, before and after.)
          const upload = await runProcess(
            [
              pythonBin,
              '-I',
              '-m',
              'twine',
              'upload',
              '--non-interactive',
              '--disable-progress-bar',
              '--repository-url',
              pypi.repositoryUrl,
              ...missing.map((file) => join(dist, file)),
            ],
            {
              cwd: dir,
              env: { ...base, NO_COLOR: '1', TWINE_USERNAME: username ?? '__token__', TWINE_PASSWORD: password ?? '' },
              timeoutMs: 30 * 60_000,
            },
          );
          // A failed upload may still have stored some files (or an earlier attempt did): the index says what is there.
          const after = await indexDigests(index, project);
          const absent = missing.filter((file) => !after.has(file));
          if (absent.length > 0) {
            throw new Error(
              `${target.repository.name}: ${upload.code === 0 ? `${absent.join(', ')} not on ${index}${project}/ after the upload` : `twine upload failed: ${lastLines(upload.output)}`}`,
            );
          }
          for (const file of missing) {
            if (after.get(file) !== (await sha256File(join(dist, file)))) {
              throw ApplicationFailure.nonRetryable(
                `${target.repository.name}: ${file} on ${index}${project}/ has another sha256 than the file built from ${target.sha.slice(0, 12)}`,
                'PypiFileDiffers',
              );
            }
          }
        }
        return {
          repository: target.repository.name,
          project,
          indexPage: projectPage(index, project),
          uploaded: missing,
          skipped: files.filter((file) => before.has(file)),
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
