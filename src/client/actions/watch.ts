import { connectClient } from '../connection';
import { formatRelease } from '../format';
import { releaseState } from '../releases';
import { formatRunning, runningActivities } from '../progress';
import { exitCodeOf, out } from '../options';

export async function watchAction(releaseId: string, options: { interval: number; json?: boolean }): Promise<void> {
  const client = await connectClient();
  for (;;) {
    const state = await releaseState(client, releaseId);
    const running = await runningActivities(client, state);
    if (options.json) out(JSON.stringify({ ...state, running }));
    else {
      if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      out(`${formatRelease(state)}${formatRunning(running)}`);
    }
    const ended = !['running'].includes(state.status);
    if (ended) {
      process.exitCode = exitCodeOf(state);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, options.interval));
  }
}
