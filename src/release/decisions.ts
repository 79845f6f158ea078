import { GATES } from './model';

/** Bounds of what a person types into a decision: a name, a comment or reason. */
export const MAX_BY = 64;
export const MAX_COMMENT = 2000;

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
  return personProblem(by, 'say who decides (by)') ?? textProblem(comment, 'comment');
}

/** The same for an operator's retry, skip or abort. */
export function commandShapeProblem(command: unknown): string | undefined {
  if (typeof command !== 'object' || command === null) return 'expected a command such as {"action": "retry", "by": "alice"}';
  const { action, by, reason } = command as Record<string, unknown>;
  if (typeof action !== 'string' || !['retry', 'skip', 'abort'].includes(action))
    return `unknown action '${String(action).slice(0, 40)}': expected retry, skip or abort`;
  return personProblem(by, 'say who acts (by)') ?? textProblem(reason, 'reason');
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
