import { UserError } from '../../config/errors';
import { decisionShapeProblem } from '../../release/decisions';
import { connectClient } from '../connection';
import type { GateName } from '../../release/model';
import { signGateDecision, signingKey } from '../gateSigning';
import { decideGate, decisionScopeOf } from '../releases';
import { out } from '../options';

export interface GateDecisionOptions {
  by: string;
  comment?: string;
  key?: string;
  sign: boolean;
}

export async function gateDecisionAction(approve: boolean, releaseId: string, gate: string, options: GateDecisionOptions): Promise<void> {
  const problem = decisionShapeProblem({ gate, by: options.by, comment: options.comment });
  if (problem) throw new UserError(problem);
  const key = options.sign ? signingKey(options.key) : undefined;
  const client = await connectClient();
  const signed = key
    ? await signGateDecision(key, {
        ...(await decisionScopeOf(client, releaseId)),
        gate,
        decision: approve ? 'approved' : 'rejected',
        comment: options.comment,
      })
    : {};
  const state = await decideGate(
    client,
    releaseId,
    { gate: gate as GateName, by: options.by, comment: options.comment, ...signed },
    approve,
  );
  // The decision was recorded: that is success for this command, a rejection included.
  out(
    `gate ${state.name} of ${releaseId}: ${state.status} by ${state.by}${state.signer ? ` (signature verified, key ${state.signer.fingerprint})` : ''}`,
  );
}
