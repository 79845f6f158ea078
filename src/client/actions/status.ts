import { connectClient } from '../connection';
import { formatRelease, formatRuns } from '../format';
import { releaseRuns, releaseState } from '../releases';
import { formatRunning, runningActivities } from '../progress';
import { exitCodeOf, out } from '../options';

export async function statusAction(releaseId: string, options: { json?: boolean }): Promise<void> {
  const client = await connectClient();
  const state = await releaseState(client, releaseId);
  const runs = await releaseRuns(client, releaseId);
  const running = await runningActivities(client, state);
  out(
    options.json
      ? JSON.stringify({ ...state, runs, running }, null, 2)
      : `${formatRelease(state)}${formatRunning(running)}${formatRuns(runs)}`,
  );
  process.exitCode = exitCodeOf(state);
}
