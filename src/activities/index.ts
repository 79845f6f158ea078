import { join } from 'node:path';
import { createBuildActivities } from './builders';
import { forRelflowWorkflowsOnly } from './callerCheck';
import { createChecksumActivities } from './checksums';
import { createCiActivities } from './ci';
import { createGateSignatureActivities } from './gateSignatures';
import { createGitActivities } from './git';
import { createGithubReleaseActivities } from './githubReleases';
import { createManifestActivities } from './manifestSource';
import { GitWorkspace } from './gitWorkspace';
import { createNotifyActivities } from './notify';
import { createPreflightActivities } from './preflight';
import { keepingAlive } from './process';
import { createProvenanceActivities } from './provenance';
import { createPypiActivities } from './pypi';
import { createDocsActivities } from './readthedocs';
import { createReaperActivities } from './reaper';
import { createReleaseNotesActivities } from './releaseNotes';
import { createReleasedWorkActivities } from './releasedWork';
import { createRetagActivities } from './retagTarget';
import { workerSecrets } from './secrets';
import { createSpecsActivities } from './specs';
import { createStorageActivities } from './storage';
import { createSystemTestActivities } from './systemTests';

export interface ActivityConfig {
  /** The worker's persistent workspace (git mirrors and working copies, build outputs). */
  workspaceDir: string;
  /** The Python of the tools environment (python -m build, twine). */
  pythonBin?: string;
  env?: NodeJS.ProcessEnv;
}

/** Every activity of relflow, wired to one worker's workspace and environment. */
export function createActivities(config: ActivityConfig) {
  const env = config.env ?? process.env;
  // A secrets file that cannot be read or is malformed stops the worker at start, not a release halfway.
  workerSecrets(env);
  const workspace = new GitWorkspace(join(config.workspaceDir, 'git'), env);
  workspace.pruneWorkingCopies();
  const activities = {
    ...createPreflightActivities(env, config.pythonBin ?? 'python3'),
    ...createGitActivities(workspace),
    ...createSpecsActivities(workspace, env),
    ...createStorageActivities(env),
    ...createChecksumActivities(env),
    ...createProvenanceActivities(env),
    ...createReleaseNotesActivities(workspace, env),
    ...createReleasedWorkActivities(workspace, env),
    ...createCiActivities(env),
    ...createGithubReleaseActivities(env),
    ...createSystemTestActivities(env),
    ...createPypiActivities(workspace, config.pythonBin ?? 'python3', env),
    ...createDocsActivities(env),
    ...createNotifyActivities(env),
    ...createBuildActivities(workspace, join(config.workspaceDir, 'builds'), env),
    ...createReaperActivities(env),
    ...createRetagActivities(env),
    ...createGateSignatureActivities(env),
    ...createManifestActivities(env),
  };
  for (const name of Object.keys(activities) as Array<keyof typeof activities>) {
    (activities as Record<string, unknown>)[name] = forRelflowWorkflowsOnly(
      name,
      keepingAlive(activities[name] as (...args: unknown[]) => Promise<unknown>),
    );
  }
  return activities;
}

export type ReleaseActivities = ReturnType<typeof createActivities>;
