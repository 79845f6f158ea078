import { createGitActivities } from './git';
import { GitWorkspace } from './gitWorkspace';

export interface ActivityConfig {
  /** The worker's persistent workspace (git mirrors and working copies, build outputs). */
  workspaceDir: string;
  env?: NodeJS.ProcessEnv;
}

/** Every activity of relflow, wired to one worker's workspace. */
export function createActivities(config: ActivityConfig) {
  const workspace = new GitWorkspace(`${config.workspaceDir}/git`, config.env ?? process.env);
  return {
    ...createGitActivities(workspace),
  };
}

export type ReleaseActivities = ReturnType<typeof createActivities>;
