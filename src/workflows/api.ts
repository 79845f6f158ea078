import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { RELEASE_STATE_QUERY } from '../release/model';
import type { GateDecision, GateState, OperatorCommand, ReleaseState } from '../release/model';

/** The release's Temporal interface, defined once and imported by the workflow and the client. */
export const releaseStateQuery = defineQuery<ReleaseState>(RELEASE_STATE_QUERY);

/** Signals, usable from the Web UI's signal form: {"gate": "pypi", "by": "alice"}. */
export const approveSignal = defineSignal<[GateDecision]>('approve');
export const rejectSignal = defineSignal<[GateDecision]>('reject');
/** {"action": "retry", "by": "alice"} */
export const operatorSignal = defineSignal<[OperatorCommand]>('operator');

/** Validated updates for the CLI: an immediate yes, or a no with the reason. */
export const approveUpdate = defineUpdate<GateState, [GateDecision]>('approveGate');
export const rejectUpdate = defineUpdate<GateState, [GateDecision]>('rejectGate');
export const operatorUpdate = defineUpdate<string, [OperatorCommand]>('operate');
