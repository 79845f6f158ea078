import { UserError } from '../../config/errors';
import { connectClient } from '../connection';
import { pendingActivities } from '../progress';
import { artifactWorkflowId } from '../../release/plan';
import { releaseState } from '../releases';
import { out } from '../options';

export async function logsAction(releaseId: string, name: string, options: { follow?: boolean; interval: number }): Promise<void> {
  const client = await connectClient();
  let shown: string[] = [];
  for (;;) {
    const state = await releaseState(client, releaseId);
    const artifact = state.artifacts.find((candidate) => candidate.name === name);
    if (!artifact) {
      const known = state.artifacts.map((candidate) => candidate.name);
      throw new UserError(`release ${releaseId} has no artifact '${name}'${known.length ? ` (its artifacts: ${known.join(', ')})` : ''}`);
    }
    const build = (await pendingActivities(client, artifactWorkflowId(releaseId, name))).find((activity) =>
      Array.isArray(activity.details?.log),
    );
    const lines = (build?.details?.log as string[] | undefined) ?? [];
    // With --follow, only what was not printed yet: the lines after the longest overlap with the last tail.
    let overlap = Math.min(shown.length, lines.length);
    while (overlap > 0 && shown.slice(-overlap).join('\n') !== lines.slice(0, overlap).join('\n')) overlap -= 1;
    const fresh = lines.slice(overlap);
    if (fresh.length) out(fresh.join('\n'));
    shown = lines;
    if (!build && (artifact.status !== 'running' || !options.follow)) {
      const detail = artifact.error ?? artifact.detail;
      out(
        artifact.status === 'running'
          ? `${name}: no build output yet (${detail ?? 'starting'})`
          : `${name} ${artifact.status}${detail ? `: ${detail}` : ''}`,
      );
      return;
    }
    if (!options.follow) return;
    await new Promise((resolve) => setTimeout(resolve, options.interval));
  }
}
