import { existsSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sshKeygen } from '../activities/gateSignatures';
import { UserError } from '../config/errors';
import {
  GATE_SIGNATURE_NAMESPACE,
  gateDecisionPayload,
  OPERATOR_SIGNATURE_NAMESPACE,
  operatorCommandPayload,
  retagCommandPayload,
} from '../release/decisions';

/** The key `relflow approve` signs with: --key, RELFLOW_SIGNING_KEY, or ~/.ssh/id_ed25519 when it exists. */
export function signingKey(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Absolute: ssh-keygen signs in a directory of its own, where keys/approver would name nothing.
  if (option) return resolve(option);
  if (env.RELFLOW_SIGNING_KEY) return resolve(env.RELFLOW_SIGNING_KEY);
  const fallback = join(homedir(), '.ssh', 'id_ed25519');
  return existsSync(fallback) ? fallback : undefined;
}

/** Where a decision is made: the namespace and the run of the release it is for (a signature is good there only). */
export interface DecisionScope {
  namespace: string;
  release: string;
  run: string;
}

/**
 * Signs a gate decision with an SSH key (`ssh-keygen -Y sign -n relflow-gate`;
 * a public key file signs through the ssh agent). Returns the time signed and the armored signature.
 */
export function signGateDecision(
  key: string,
  decision: DecisionScope & { gate: string; decision: 'approved' | 'rejected'; comment?: string },
): Promise<{ time: string; signature: string }> {
  return signDecision(key, GATE_SIGNATURE_NAMESPACE, 'decision', (time) => gateDecisionPayload({ ...decision, time }));
}

/** The same for an operator's retry, skip or abort (`-n relflow-operator`). */
export function signOperatorCommand(
  key: string,
  command: DecisionScope & { action: string; reason?: string },
): Promise<{ time: string; signature: string }> {
  return signDecision(key, OPERATOR_SIGNATURE_NAMESPACE, 'command', (time) => operatorCommandPayload({ ...command, time }));
}

/** The same for `relflow retag` (`-n relflow-operator`): the repository and --force are signed too. */
export function signRetagCommand(
  key: string,
  command: DecisionScope & { repository: string; force: boolean },
): Promise<{ time: string; signature: string }> {
  return signDecision(key, OPERATOR_SIGNATURE_NAMESPACE, 'command', (time) => retagCommandPayload({ ...command, time }));
}

async function signDecision(
  key: string,
  namespace: string,
  what: string,
  payload: (time: string) => string,
): Promise<{ time: string; signature: string }> {
  if (!existsSync(key)) throw new UserError(`--key ${key}: no such key file`);
  const time = new Date().toISOString();
  const signed = await sshKeygen(['-Y', 'sign', '-f', key, '-n', namespace], { cwd: tmpdir(), env: process.env, stdin: payload(time) });
  const signature = /-----BEGIN SSH SIGNATURE-----[\s\S]+-----END SSH SIGNATURE-----\n?/.exec(signed.output)?.[0];
  if (signed.code !== 0 || !signature) {
    throw new UserError(
      `--key ${key}: ssh-keygen could not sign the ${what}: ${signed.output.trim().split('\n').slice(-1)[0] ?? `exit ${signed.code}`}`,
    );
  }
  return { time, signature };
}
