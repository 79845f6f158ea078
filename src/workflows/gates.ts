import { ApplicationFailure, condition, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import type { GateVerdict } from '../activities/gateSignatures';
import { activity } from './proxies';
import type { GateSpec } from '../config/manifest';
import { durationMs } from '../config/duration';
import { approveSignal, approveUpdate, rejectSignal, rejectUpdate } from './api';
import { GateDecision, GateName, GateSigner, GateState } from '../release/model';
import { isUndecodable } from './payloadConverter';
import { ReleaseTracker } from './tracker';
import { decisionShapeProblem, unprintableNameProblem } from '../release/decisions';

export type GateOutcome = 'approved' | 'rejected' | 'timed-out';

function refusedUpdate(status: 'approved' | 'rejected', problem: string): string {
  return `refused ${status === 'approved' ? 'approve' : 'reject'} update: ${problem}`;
}

/** What a signed decision or command is bound to: this release's run in this namespace. */
export function decisionScope(release: ReleaseTracker): { releaseId: string; run: string; namespace: string } {
  const info = workflowInfo();
  return { releaseId: release.state.releaseId, run: info.runId, namespace: info.namespace };
}

/** Gate decisions are checked against the workers' trust file (signed decisions) from this change on. */
const SIGNED_GATES = 'signed-gate-decisions';
/** Decisions and commands whose name holds a control character are refused from this change on (older releases keep their rules). */
export const PRINTABLE_NAMES = 'printable-decision-names';
/** An open gate says whether it takes signed decisions only, so the commands it shows carry --key, from this change on. */
const GATE_KNOWS_ITS_SIGNERS = 'gate-knows-its-signers';
/** Refused decision updates are kept in the release's log like refused signals from this change on. */
export const REFUSED_UPDATES_LOGGED = 'refused-updates-logged';

/**
 * The manual decisions of a release. Signals serve the Web UI's signal form;
 * validated updates give the CLI an immediate yes or a no with the reason.
 */
export class Gates {
  private readonly printableNames = patched(PRINTABLE_NAMES);
  private readonly logsRefusedUpdates = patched(REFUSED_UPDATES_LOGGED);

  constructor(private readonly release: ReleaseTracker) {
    setHandler(approveSignal, (decision) => this.decideIfValid(decision, 'approved'));
    setHandler(rejectSignal, (decision) => this.decideIfValid(decision, 'rejected'));
    setHandler(approveUpdate, (decision) => this.decideVerified(decision, 'approved'), {
      validator: (decision) => this.validate(decision, 'approved'),
    });
    setHandler(rejectUpdate, (decision) => this.decideVerified(decision, 'rejected'), {
      validator: (decision) => this.validate(decision, 'rejected'),
    });
  }

  /** Why a decision is refused, or undefined when it is valid. */
  problem(decision: GateDecision): string | undefined {
    if (isUndecodable(decision))
      return `the decision could not be decoded (encoding ${decision.undecodable}): send JSON such as {"gate": "pypi", "by": "alice"}`;
    const shape = decisionShapeProblem(decision) ?? (this.printableNames ? unprintableNameProblem(decision.by) : undefined);
    if (shape) return shape;
    const gate = this.release.gate(decision.gate);
    if (!gate || gate.status === 'closed') return `gate ${decision.gate} is not open (the release is at stage ${this.release.state.stage})`;
    if (gate.status === 'skipped') return `gate ${decision.gate} does not apply to this release`;
    if (gate.status !== 'open')
      return `gate ${decision.gate} was already decided: ${gate.status}${gate.by ? ` by ${gate.by}` : ''} at ${gate.decidedAt}`;
    if (gate.approvers.length > 0 && !gate.approvers.includes(decision.by)) {
      return `${decision.by} may not decide gate ${decision.gate}; approvers: ${gate.approvers.join(', ')}`;
    }
    return undefined;
  }

  /** Malformed decisions are refused here; the other refusals are logged by the handler (ReleaseTracker.refuseInValidator). */
  private validate(decision: GateDecision, status: 'approved' | 'rejected'): void {
    const problem = this.problem(decision);
    const wellFormed = this.logsRefusedUpdates && !isUndecodable(decision) && !decisionShapeProblem(decision);
    this.release.refuseInValidator(
      problem,
      wellFormed && problem ? { by: decision.by, action: refusedUpdate(status, problem) } : undefined,
    );
  }

  private async decideIfValid(decision: GateDecision, status: 'approved' | 'rejected'): Promise<void> {
    const refuse = (problem: string) =>
      this.release.recordRefusal(decision?.by, `refused ${status === 'approved' ? 'approve' : 'reject'} signal: ${problem}`);
    const problem = this.problem(decision);
    if (problem) return refuse(problem);
    if (!patched(SIGNED_GATES)) return void this.decide(decision, status);
    const verdict = await this.verify(decision, status);
    if (verdict.problem) refuse(verdict.problem);
    else this.decide(decision, status, verdict.signer);
  }

  /**
   * The update path: the workers' trust file decides whether this gate takes
   * signed decisions only (verifyGateDecision, on a worker, where the allowed
   * signers are); a refused signature is the update's error, with the reason.
   */
  private async decideVerified(decision: GateDecision, status: 'approved' | 'rejected'): Promise<GateState> {
    if (!patched(SIGNED_GATES)) return this.decide(decision, status);
    const refuse = (problem: string): never => {
      if (this.logsRefusedUpdates) this.release.recordRefusal(decision.by, refusedUpdate(status, problem));
      throw ApplicationFailure.nonRetryable(problem, 'GateDecisionRefused');
    };
    const problem = this.logsRefusedUpdates ? this.problem(decision) : undefined;
    if (problem) refuse(problem);
    const verdict = await this.verify(decision, status);
    if (verdict.problem) refuse(verdict.problem);
    return this.decide(decision, status, verdict.signer);
  }

  private async verify(decision: GateDecision, status: 'approved' | 'rejected'): Promise<GateVerdict> {
    const verdict = await activity('verifyGateDecision')({
      ...decisionScope(this.release),
      gate: decision.gate,
      decision: status,
      by: decision.by,
      comment: decision.comment,
      time: decision.time,
      signature: decision.signature,
    });
    if (verdict.signer && verdict.signer.principal !== decision.by) {
      return {
        ...verdict,
        problem: `the decision is signed by ${verdict.signer.principal}, not by ${decision.by}: pass --by ${verdict.signer.principal}`,
      };
    }
    // Another decision or the gate's timeout may have come while the signature was checked.
    return { ...verdict, problem: verdict.problem ?? this.problem(decision) };
  }

  private decide(decision: GateDecision, status: 'approved' | 'rejected', signer?: GateSigner): GateState {
    const gate = this.release.gate(decision.gate) as GateState;
    // A signed decision is the signer's, whatever name came with it.
    const by = signer?.principal ?? decision.by;
    Object.assign(gate, { status, by, comment: decision.comment, decidedAt: new Date().toISOString(), ...(signer ? { signer } : {}) });
    this.release.record(
      by,
      `${status === 'approved' ? 'approved' : 'rejected'} gate ${decision.gate}${signer ? ` (signed, key ${signer.fingerprint})` : ''}${decision.comment ? `: ${decision.comment}` : ''}`,
    );
    return gate;
  }

  /** Opens the gate and waits for a decision, reminding while it waits; a timeout counts as rejected. */
  async open(name: GateName, spec: GateSpec, remind: (gate: GateState, first: boolean) => Promise<void>): Promise<GateOutcome> {
    const gate: GateState = { name, status: 'open', approvers: spec.approvers, openedAt: new Date().toISOString() };
    if (patched(GATE_KNOWS_ITS_SIGNERS) && (await activity('gateTakesSignedDecisions')({ gate: name }))) gate.signed = true;
    this.release.state.gates = [...this.release.state.gates.filter((candidate) => candidate.name !== name), gate];
    const previous = this.release.state.status;
    this.release.setStatus('waiting');
    const deadline = Date.now() + durationMs(spec.timeout);
    const every = durationMs(spec.reminderEvery);
    await remind(gate, true);
    while (gate.status === 'open') {
      const left = deadline - Date.now();
      if (left <= 0) {
        Object.assign(gate, { status: 'timed-out', decidedAt: new Date().toISOString() });
        break;
      }
      const decided = await condition(() => gate.status !== 'open', Math.min(left, every));
      if (!decided && deadline - Date.now() > 0) await remind(gate, false);
    }
    this.release.setStatus(previous === 'waiting' ? 'running' : previous);
    return gate.status as GateOutcome;
  }

  skip(name: GateName): void {
    this.release.state.gates.push({ name, status: 'skipped', approvers: [] });
  }
}
