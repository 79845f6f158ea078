import { existsSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { GitWorkspace } from '../gitWorkspace';
import { gitEnvironment } from '../gitWorkspace';
import { lastLines, runProcess } from '../process';
import { storeBuildOutputs } from './outputs';
import { buildVariables, checkOutReleaseCommit } from './source';
import type { BuildRequest, Machine } from './types';
import type { StoredFile } from '../../release/model';

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
      const source = join(buildDir(request), 'src');
      await checkOutReleaseCommit(workspace, request, source);
      await runCommand(request.artifact.command, source, { ...gitEnvironment(env), ...buildVariables(request) }, request.timeoutMs);
      return storeBuildOutputs(
        request,
        request.artifact.outputs.flatMap((pattern) => expandOutputs(source, pattern)),
        env,
      );
    },

    async tearDown(request: BuildRequest): Promise<void> {
      if (existsSync(buildDir(request))) await rm(buildDir(request), { recursive: true, force: true });
    },
  };
}
