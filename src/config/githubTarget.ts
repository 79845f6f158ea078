import type { Manifest } from './manifest';

/** Where the GitHub releases go: the github section, with what it leaves out taken from a github CI provider. */
export function githubReleasesTarget(manifest: Manifest): { apiUrl: string; owner?: string; tokenEnv?: string } {
  const ci = manifest.ci.provider === 'github' ? manifest.ci : undefined;
  // A manifest a client sent without the section (one from before it existed) has none.
  const github = manifest.github ?? {};
  return {
    apiUrl: github.apiUrl ?? ci?.apiUrl ?? 'https://api.github.com',
    owner: github.owner ?? ci?.owner,
    tokenEnv: github.tokenEnv ?? ci?.tokenEnv,
  };
}
