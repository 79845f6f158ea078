import { mkdirSync } from 'node:fs';
import { type ArtifactSpec, CREDENTIAL_VARIABLE } from '../../config/manifest';
import { ApplicationFailure } from '@temporalio/common';
import { PROXY_VARIABLES, variablesOf } from '../process';
import { workerSecrets } from '../secrets';
import { buildVariables } from './source';
import type { BuildRequest } from './types';

/** What every build and vagrant sees of the worker: the tools, the locale, the temp dir, the proxies. */
const BASE_VARIABLES = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', ...PROXY_VARIABLES];

/** What vagrant needs besides: where its boxes and plugins are, and which provider it uses. */
const VAGRANT_VARIABLES = ['VAGRANT_HOME', 'VAGRANT_DEFAULT_PROVIDER', 'VAGRANT_DOTFILE_PATH', 'VAGRANT_LOG'];

/** What a local build gets of its own: its scratch HOME, and no git prompt. */
function localBuildOwnVariables(home: string): Record<string, string> {
  return { HOME: home, GIT_TERMINAL_PROMPT: '0' };
}

/**
 * The environment of a local build command: the base variables, a scratch HOME
 * (created here, inside the build directory, gone with it), the variables its
 * artifact lists (`artifacts[].env`) and the release's own. No SSH agent, no
 * git credentials, no worker secret: the command is the repository's code.
 */
export function localBuildEnvironment(env: NodeJS.ProcessEnv, request: BuildRequest, home: string): NodeJS.ProcessEnv {
  const listed = request.artifact.env ?? [];
  const secrets = workerSecrets(env).names;
  for (const name of listed) {
    if (CREDENTIAL_VARIABLE.test(name) || secrets.includes(name)) {
      throw ApplicationFailure.nonRetryable(
        `artifacts.${request.artifact.name}.env: ${name} may hold a credential (or is a secret of the worker's secrets file) and is never passed to a build`,
        'InvalidArtifact',
      );
    }
  }
  mkdirSync(home, { recursive: true });
  return {
    ...variablesOf(env, BASE_VARIABLES),
    ...variablesOf(env, listed),
    ...localBuildOwnVariables(home),
    ...buildVariables(request),
  };
}

/** The worker's variables vagrant sees: the base ones, vagrant's own and those the operator adds in RELFLOW_VAGRANT_ENV. */
function vagrantVariables(env: NodeJS.ProcessEnv): string[] {
  return [...BASE_VARIABLES, ...VAGRANT_VARIABLES, ...(env.RELFLOW_VAGRANT_ENV ?? '').split(/[\s,]+/).filter(Boolean)];
}

/**
 * The environment of `vagrant` (which runs the repository's Vagrantfile): the
 * base variables, vagrant's own, the names the worker's operator adds in
 * RELFLOW_VAGRANT_ENV (a provider's settings), a scratch HOME, and the release's
 * variables. Boxes stay where they were: VAGRANT_HOME defaults to the worker's ~/.vagrant.d.
 */
export function vagrantEnvironment(env: NodeJS.ProcessEnv, request: BuildRequest, home: string): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  return {
    ...variablesOf(env, vagrantVariables(env)),
    VAGRANT_HOME: env.VAGRANT_HOME ?? (env.HOME ? `${env.HOME}/.vagrant.d` : undefined),
    HOME: home,
    ...buildVariables(request),
  };
}

/**
 * The names of the variables a build of this artifact sees, for its provenance
 * (never their values): a machine build (ec2) sees its machine's own and the release's.
 */
export function buildVariableNames(artifact: ArtifactSpec, build: number | undefined, env: NodeJS.ProcessEnv): string[] {
  const release = Object.keys(buildVariables({ releaseId: '', artifact, version: '', sha: '', build }));
  if (artifact.builder === 'local')
    return [...BASE_VARIABLES, ...(artifact.env ?? []), ...Object.keys(localBuildOwnVariables('')), ...release];
  if (artifact.builder === 'vagrant') return [...vagrantVariables(env), 'HOME', ...release];
  return release;
}
