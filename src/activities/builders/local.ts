import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { simpleGit } from 'simple-git';
import type { GitWorkspace } from '../gitWorkspace';
import { gitEnvironment } from '../gitWorkspace';
import { lastLines, runProcess } from '../process';
import { storeFile } from '../storage';
import type { BuildRequest, Machine } from './types';
import type { StoredFile } from '../../workflows/state';

/** `*` matches within a path segment, `**` across segments, `?` one character. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index];
    if (char === '*' && pattern[index + 1] === '*') {
      source += '.*';
      index += pattern[index + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** The files under `dir` (not in .git) whose relative path matches the pattern. */
export function expandOutputs(dir: string, pattern: string): string[] {
  const matcher = globToRegExp(pattern);
  const found: string[] = [];
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (matcher.test(relative(dir, path))) found.push(path);
    }
  };
  walk(dir);
  return found.sort();
}

async function runCommand(command: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  const result = await runProcess(['sh', '-c', command], { cwd, env, timeoutMs });
  if (result.code !== 0) throw new Error(`build command failed (exit ${result.code}): ${lastLines(result.output)}`);
}

/** The local builder: the build command runs on the worker, in a checkout of the release's commit. */
export function createLocalBuilder(workspace: GitWorkspace, buildRoot: string, env: NodeJS.ProcessEnv) {
  const buildDir = (request: BuildRequest) => join(buildRoot, request.releaseId, request.artifact.name);
  return {
    async provision(request: BuildRequest): Promise<Machine> {
      return { id: `local:${request.releaseId}/${request.artifact.name}`, builder: 'local' };
    },

    async build(request: BuildRequest): Promise<StoredFile[]> {
      const dir = buildDir(request);
      const source = join(dir, 'src');
      const mirror = await workspace.refreshMirror(request.repository.name, request.repository.url, { tokenEnv: request.tokenEnv });
      await rm(source, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const git = simpleGit(dir).env(gitEnvironment(env, request.tokenEnv));
      await git.clone(mirror, source, ['--no-checkout', '--quiet']);
      await simpleGit(source).env(gitEnvironment(env)).raw(['checkout', '--quiet', '--detach', request.sha]);
      const buildEnv = {
        ...gitEnvironment(env),
        RELFLOW_RELEASE_ID: request.releaseId,
        RELFLOW_ARTIFACT: request.artifact.name,
        RELFLOW_VERSION: request.version,
        RELFLOW_SHA: request.sha,
      };
      await runCommand(request.artifact.command, source, buildEnv, request.timeoutMs);
      const outputs = request.artifact.outputs.flatMap((pattern) => expandOutputs(source, pattern));
      if (outputs.length === 0) {
        throw ApplicationFailure.nonRetryable(`${request.artifact.name}: the build left none of ${request.artifact.outputs.join(', ')}`, 'BuildOutputMissing');
      }
      const stored: StoredFile[] = [];
      for (const path of outputs) {
        const file = path.slice(path.lastIndexOf('/') + 1);
        const { skipped: _skipped, ...result } = await storeFile({ storage: request.storage, name: request.artifact.name, key: `${request.keyPrefix}${file}`, path }, env);
        stored.push(result);
      }
      return stored;
    },

    async tearDown(request: BuildRequest): Promise<void> {
      if (existsSync(buildDir(request))) await rm(buildDir(request), { recursive: true, force: true });
    },
  };
}
