import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../config/manifest';
import type { GitWorkspace } from './gitWorkspace';
import { lastLines, runProcess } from './process';

export interface PypiTarget {
  repository: { name: string; url: string };
  /** The release tag's commit (the build branch head for patches). */
  sha: string;
  packageDir: string;
}

export interface PypiResult {
  repository: string;
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

/** Which of `files` the index already lists (the project pages of their distribution names). */
async function indexFiles(indexUrl: string, files: string[]): Promise<Set<string>> {
  const projects = new Set(files.map((file) => file.split('-')[0].toLowerCase().replace(/[._]+/g, '-')));
  const found = new Set<string>();
  for (const project of projects) {
    const response = await fetch(`${indexUrl}${project}/`);
    if (response.status === 404) continue;
    if (!response.ok) throw new Error(`PyPI index ${indexUrl}${project}/ answered HTTP ${response.status}`);
    const page = await response.text();
    for (const file of files) if (page.includes(`>${file}<`)) found.add(file);
  }
  return found;
}

/** sdist and wheel with `python -m build`, then `twine upload` of the files the index does not list yet: a re-run publishes nothing twice. */
export function createPypiActivities(workspace: GitWorkspace, pythonBin: string, env: NodeJS.ProcessEnv) {
  return {
    async publishPythonPackage(input: { pypi: NonNullable<Manifest['pypi']>; target: PypiTarget; tokenEnv?: string }): Promise<PypiResult> {
      const { pypi, target } = input;
      const username = pypi.usernameEnv ? env[pypi.usernameEnv] : undefined;
      const password = pypi.passwordEnv ? env[pypi.passwordEnv] : undefined;
      for (const [field, name, value] of [['pypi.usernameEnv', pypi.usernameEnv, username], ['pypi.passwordEnv', pypi.passwordEnv, password]] as const) {
        if (name && !value) throw ApplicationFailure.nonRetryable(`${field}: environment variable ${name} is not set on the worker`, 'MissingSecret');
      }
      const dir = await mkdtemp(join(tmpdir(), `relflow-pypi-${target.repository.name}-`));
      try {
        await workspace.checkOutCommit(target.repository.name, target.repository.url, target.sha, join(dir, 'src'), { tokenEnv: input.tokenEnv });
        const base = { PATH: env.PATH, HOME: env.HOME, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
        const build = await runProcess([pythonBin, '-m', 'build', '--no-isolation', '--sdist', '--wheel', '--outdir', join(dir, 'dist'), join(dir, 'src', target.packageDir)], {
          cwd: dir,
          env: base,
          timeoutMs: 30 * 60_000,
        });
        if (build.code !== 0) throw new Error(`${target.repository.name}: python -m build failed: ${lastLines(build.output)}`);
        const files = (await readdir(join(dir, 'dist'))).sort();
        // twine's --skip-existing works only against pypi.org: ask the index what it already has.
        const present = await indexFiles(simpleIndexUrl(pypi), files);
        const missing = files.filter((file) => !present.has(file));
        if (missing.length > 0) {
          // Credentials go through twine's environment variables, never its arguments.
          const upload = await runProcess([pythonBin, '-m', 'twine', 'upload', '--non-interactive', '--disable-progress-bar', '--repository-url', pypi.repositoryUrl, ...missing.map((file) => join(dir, 'dist', file))], {
            cwd: dir,
            env: { ...base, NO_COLOR: '1', TWINE_USERNAME: username ?? '__token__', TWINE_PASSWORD: password ?? '' },
            timeoutMs: 30 * 60_000,
          });
          if (upload.code !== 0) throw new Error(`${target.repository.name}: twine upload failed: ${lastLines(upload.output)}`);
        }
        return { repository: target.repository.name, uploaded: missing, skipped: files.filter((file) => present.has(file)) };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
