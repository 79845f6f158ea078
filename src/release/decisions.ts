import { GATES } from './model';

/** Bounds of what a person types into a decision: a name, a comment or reason. */
export const MAX_BY = 64;
export const MAX_COMMENT = 2000;

/** Control characters in a name would forge lines in the log, the report and the mail that show it. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** What is wrong with a name that is not printable (the workflow checks it under a patch, the CLI always). */
export function unprintableNameProblem(by: unknown): string | undefined {
  return typeof by === 'string' && CONTROL_CHARACTERS.test(by) ? 'by: a name without control characters' : undefined;
}

/**
 * What is wrong with the shape of a gate decision, whoever sends it (the CLI
 * before it connects, the workflow for any client); undefined when well formed.
 */
export function decisionShapeProblem(decision: unknown): string | undefined {
  if (typeof decision !== 'object' || decision === null) return 'expected a decision such as {"gate": "pypi", "by": "alice"}';
  const { gate, by, comment } = decision as Record<string, unknown>;
  if (typeof gate !== 'string' || !(GATES as readonly string[]).includes(gate)) {
    return `unknown gate '${String(gate).slice(0, 40)}': expected one of ${GATES.join(', ')}`;
  }
  return signatureProblem(decision) ?? personProblem(by, 'say who decides (by)') ?? textProblem(comment, 'comment');
}

/** What is wrong with the time and signature of a signed decision or command (both, or neither). */
function signatureProblem(record: object): string | undefined {
  const { time, signature } = record as Record<string, unknown>;
  if (time !== undefined && (typeof time !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(time)))
    return 'time: an ISO 8601 UTC time such as 2026-11-28T15:00:00.000Z';
  if (
    signature !== undefined &&
    (typeof signature !== 'string' || signature.length > MAX_SIGNATURE || !signature.startsWith('-----BEGIN SSH SIGNATURE-----'))
  )
    return `signature: an SSH signature (-----BEGIN SSH SIGNATURE-----) of at most ${MAX_SIGNATURE} characters`;
  if ((signature === undefined) !== (time === undefined)) return 'a signed decision has both its time and its signature';
  return undefined;
}

/** The namespace of gate decision signatures: a signature made for anything else never verifies as one. */
export const GATE_SIGNATURE_NAMESPACE = 'relflow-gate';
export const MAX_SIGNATURE = 4000;

/**
 * The exact bytes a gate decision's signature covers: the namespace, the
 * release and its run, the gate, the decision, the comment and the time. A
 * signature is good for that one decision of that one run, and for a few minutes.
 */
export function gateDecisionPayload(decision: {
  namespace: string;
  release: string;
  run: string;
  gate: string;
  decision: 'approved' | 'rejected';
  comment?: string;
  time: string;
}): string {
  const { namespace, release, run, gate, comment, time } = decision;
  return `${JSON.stringify({ namespace, release, run, gate, decision: decision.decision, comment: comment ?? '', time })}\n`;
}

/** The namespace of operator command signatures. */
export const OPERATOR_SIGNATURE_NAMESPACE = 'relflow-operator';

/** The same for an operator's retry, skip or abort: the namespace, the release and its run, the action, the reason and the time. */
export function operatorCommandPayload(command: {
  namespace: string;
  release: string;
  run: string;
  action: string;
  reason?: string;
  time: string;
}): string {
  const { namespace, release, run, action, reason, time } = command;
  return `${JSON.stringify({ namespace, release, run, action, reason: reason ?? '', time })}\n`;
}

/** The same for `relflow retag`: the namespace, the release and its run, the repository, whether forced, and the time. */
export function retagCommandPayload(command: {
  namespace: string;
  release: string;
  run: string;
  repository: string;
  force: boolean;
  time: string;
}): string {
  const { namespace, release, run, repository, force, time } = command;
  return `${JSON.stringify({ namespace, release, run, action: 'retag', repository, force, time })}\n`;
}

/** What is wrong with a retag request, whoever sends it; undefined when well formed. */
export function retagShapeProblem(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null)
    return 'expected a request such as {"releaseId": "cloudify-3.4", "repository": "cloudify-manager", "by": "alice"}';
  const { releaseId, repository, force } = request as Record<string, unknown>;
  if (typeof releaseId !== 'string' || !releaseId || releaseId.length > 200) return 'releaseId: the ID of a release';
  if (typeof repository !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(repository))
    return "repository: the name of one of the release's repositories";
  if (force !== undefined && typeof force !== 'boolean') return 'force: true or false';
  return signatureProblem(request) ?? personProblem((request as Record<string, unknown>).by, 'say who asks (by)');
}

/** The same for an operator's retry, skip or abort. */
export function commandShapeProblem(command: unknown): string | undefined {
  if (typeof command !== 'object' || command === null) return 'expected a command such as {"action": "retry", "by": "alice"}';
  const { action, by, reason } = command as Record<string, unknown>;
  if (typeof action !== 'string' || !['retry', 'skip', 'abort'].includes(action))
    return `unknown action '${String(action).slice(0, 40)}': expected retry, skip or abort`;
  return signatureProblem(command) ?? personProblem(by, 'say who acts (by)') ?? textProblem(reason, 'reason');
}

function personProblem(by: unknown, missing: string): string | undefined {
  if (typeof by !== 'string' || !by) return missing;
  if (by.length > MAX_BY) return `by: at most ${MAX_BY} characters`;
  return undefined;
}

function textProblem(text: unknown, field: string): string | undefined {
  if (text !== undefined && (typeof text !== 'string' || text.length > MAX_COMMENT))
    return `${field}: text of at most ${MAX_COMMENT} characters`;
  return undefined;
}

/** The commands that decide an open gate, as an operator types them: with --key where the gate takes signed decisions only. */
export function gateCommands(releaseId: string, gate: { name: string; signed?: boolean }): { approve: string; reject: string } {
  const key = gate.signed ? ' --key <your SSH key>' : '';
  return {
    approve: `relflow approve ${releaseId} ${gate.name} --by <you>${key}`,
    reject: `relflow reject ${releaseId} ${gate.name} --by <you>${key} --comment <why>`,
  };
}
