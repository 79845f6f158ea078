import { metricMeter } from '@temporalio/workflow';
import type { ReleaseState } from '../release/model';

/**
 * relflow's own series, beside the SDK's, on the workers' Prometheus endpoint
 * (RELFLOW_METRICS_ADDRESS). Workflow metrics are not emitted while a worker
 * replays a history, so a release is counted once however often it is replayed.
 * Each is made when used: the meter exists only inside a workflow.
 */
const releasesStarted = () => metricMeter.createCounter('relflow_releases_started', 'releases', 'release runs started, by kind');
const releasesFinished = () => metricMeter.createCounter('relflow_releases_finished', 'releases', 'release runs ended, by kind and status');
// The workflow meter has no up-down counter: blocked now = blocks - unblocks.
const blocks = () => metricMeter.createCounter('relflow_release_blocks', 'releases', 'releases that blocked, by stage');
const unblocks = () =>
  metricMeter.createCounter('relflow_release_unblocks', 'releases', 'blocked releases retried, skipped or ended, by stage');
const stageSeconds = () => metricMeter.createHistogram('relflow_stage_duration', 'float', 's', 'stage duration, by stage and kind');
const gateWaitSeconds = () =>
  metricMeter.createHistogram('relflow_gate_wait', 'float', 's', 'from a gate opening to its decision, by gate');
const builds = () => metricMeter.createCounter('relflow_builds', 'builds', 'artifact builds, by builder and outcome');

const seconds = (from?: string, to?: string) => (from && to ? (Date.parse(to) - Date.parse(from)) / 1000 : undefined);

export function releaseStarted(kind: string): void {
  releasesStarted().add(1, { kind });
}

export function blockedChanged(delta: 1 | -1, stage: string): void {
  (delta > 0 ? blocks() : unblocks()).add(1, { stage });
}

/** At the end of a run: its outcome, and how long each stage and gate took. */
export function releaseFinished(state: ReleaseState): void {
  releasesFinished().add(1, { kind: state.kind, status: state.status });
  for (const stage of state.stages) {
    const took = seconds(stage.startedAt, stage.endedAt);
    if (took !== undefined) stageSeconds().record(took, { stage: stage.name, kind: state.kind });
  }
  for (const gate of state.gates) {
    const waited = seconds(gate.openedAt, gate.decidedAt);
    if (waited !== undefined) gateWaitSeconds().record(waited, { gate: gate.name, decision: gate.status });
  }
}

export function buildFinished(builder: string, outcome: 'built' | 'reused' | 'failed'): void {
  builds().add(1, { builder, outcome });
}
