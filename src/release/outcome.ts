import type { ReleaseState } from '../workflows/state';

/** The release's end in words: `succeeded`, or `succeeded with rejected gates: docs (rejected by bob: stale)`, or its status. */
export function releaseOutcome(state: Pick<ReleaseState, 'status' | 'stages'>): string {
  const rejected = state.stages.filter((stage) => stage.status === 'rejected');
  if (state.status !== 'succeeded' || rejected.length === 0) return state.status;
  return `succeeded with rejected gates: ${rejected.map((stage) => `${stage.name} (${stage.detail ?? 'rejected'})`).join(', ')}`;
}
