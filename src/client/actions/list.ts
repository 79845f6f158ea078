import { connectClient } from '../connection';
import { listReleases } from '../releases';
import { out } from '../options';

export interface ListOptions {
  kind?: string;
  version?: string;
  status?: string;
  product?: string;
  json?: boolean;
}

export async function listAction(options: ListOptions): Promise<void> {
  const releases = await listReleases(await connectClient(), options);
  if (options.json) out(JSON.stringify(releases, null, 2));
  else
    out(
      releases.length === 0
        ? 'no releases'
        : releases
            .map(
              (release) =>
                `${release.releaseId}  ${release.kind}  ${release.version}  ${release.status}  ${release.stage}  ${release.started}  run ${release.runId}`,
            )
            .join('\n'),
    );
}
