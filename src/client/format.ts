import type { ReleaseState } from '../release/model';
import { releaseReport, terminalReport, textTable } from '../release/report';

/** The release as a person reads it in a terminal (status, watch, the demo). */
export function formatRelease(state: ReleaseState): string {
  return terminalReport(releaseReport(state));
}

/** The runs of a release ID, when it was started more than once (empty otherwise). */
export function formatRuns(runs: { runId: string; status: string; started: string; closed?: string }[]): string {
  if (runs.length < 2) return '';
  const rows = runs.map((run, index) => [`${index + 1} ${run.runId}`, run.status, run.started, run.closed ?? '-']);
  return `\n\n${textTable({ head: ['RUN', 'STATE', 'STARTED', 'ENDED'], rows })}`;
}
