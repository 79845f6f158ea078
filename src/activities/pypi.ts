import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { simpleGit } from 'simple-git';
import type { Manifest } from '../config/manifest';
import { gitEnvironment, GitWorkspace } from './gitWorkspace';
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

/** sdist and wheel with `python -m build`, then `twine upload --skip-existing`: a re-run publishes nothing twice. */
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
        const mirror = await workspace.refreshMirror(target.repository.name, target.repository.url, { tokenEnv: input.tokenEnv });
        await simpleGit(dir).env(gitEnvironment(env)).clone(mirror, join(dir, 'src'), ['--no-checkout', '--quiet']);
        await simpleGit(join(dir, 'src')).env(gitEnvironment(env)).raw(['checkout', '--quiet', '--detach', target.sha]);
        const base = { PATH: env.PATH, HOME: env.HOME, PIP_DISABLE_PIP_VERSION_CHECK: '1' };
        const build = await runProcess([pythonBin, '-m', 'build', '--sdist', '--wheel', '--outdir', join(dir, 'dist'), join(dir, 'src', target.packageDir)], {
          cwd: dir,
          env: base,
          timeoutMs: 30 * 60_000,
        });
        if (build.code !== 0) throw new Error(`${target.repository.name}: python -m build failed: ${lastLines(build.output)}`);
        const files = (await readdir(join(dir, 'dist'))).sort();
        // Credentials go through twine's environment variables, never its arguments.
        const upload = await runProcess([pythonBin, '-m', 'twine', 'upload', '--non-interactive', '--skip-existing', '--disable-progress-bar', '--repository-url', pypi.repositoryUrl, ...files.map((file) => join(dir, 'dist', file))], {
          cwd: dir,
          env: { ...base, TWINE_USERNAME: username ?? '__token__', TWINE_PASSWORD: password ?? '' },
          timeoutMs: 30 * 60_000,
        });
        if (upload.code !== 0) throw new Error(`${target.repository.name}: twine upload failed: ${lastLines(upload.output)}`);
        const skipped = files.filter((file) => new RegExp(`Skipping ${file.replace(/[.+]/g, '\\$&')}`).test(upload.output));
        return { repository: target.repository.name, uploaded: files.filter((file) => !skipped.includes(file)), skipped };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
