import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATE_SIGNATURE_NAMESPACE, gateDecisionPayload, OPERATOR_SIGNATURE_NAMESPACE, operatorCommandPayload } from '../release/decisions';
import type { GateName, GateSigner, OperatorAction } from '../release/model';
import { execFile } from 'node:child_process';
import { workerSecrets } from './secrets';

/** Where a decision was made: a signature is good for one release run in one namespace. */
interface DecisionScope {
  releaseId: string;
  run: string;
  namespace: string;
}

export interface GateDecisionToVerify extends DecisionScope {
  gate: GateName;
  decision: 'approved' | 'rejected';
  /** Who says they decide: a key listed for several principals speaks for this one when it is among them. */
  by: string;
  comment?: string;
  time?: string;
  signature?: string;
}

export interface OperatorCommandToVerify extends DecisionScope {
  action: OperatorAction;
  by: string;
  reason?: string;
  time?: string;
  signature?: string;
}

/** required: the gate takes signed decisions only; then either the signer or the reason it is refused. */
export interface GateVerdict {
  required: boolean;
  signer?: GateSigner;
  problem?: string;
}

/** ssh-keygen with this standard input (it is quick: no process guard needed); its exit code and output. */
export function sshKeygen(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stdin?: string | Buffer },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('ssh-keygen', args, { cwd: options.cwd, env: options.env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({
        code: error ? ((error as { code?: unknown }).code === 'ENOENT' ? 127 : Number((error as { code?: number }).code ?? 1)) : 0,
        output: `${stdout}${stderr}`,
      }),
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.stdin ?? '');
  });
}

/** A signed decision older or newer than this is refused: a signature is not a standing order. */
export const SIGNATURE_MAX_AGE_MS = 10 * 60_000;

/** What a decision says of its signature: who signs, when, and the signature. */
export interface DecisionSignature {
  by: string;
  time?: string;
  signature?: string;
}

/** What a signed decision is checked against: in which signature namespace, over which bytes. */
export interface SignedDecision {
  namespace: string;
  payload: string;
  /** Whose signers, for a refusal: "gate pypi". */
  signersOf: string;
  /** The decision in words, for a refusal: "approved of gate pypi of cloudify-3.4". */
  what: string;
  /** How to make a signed one, for a refusal of an unsigned one. */
  howToSign: string;
}

/**
 * A signature by one of the allowed signers (ssh-keygen -Y find-principals, then
 * -Y verify in the decision's namespace) over exactly this payload, made within
 * ten minutes of now; not required where no signers are listed.
 */
export async function verifySignedDecision(
  signers: string[] | undefined,
  signed: DecisionSignature,
  decision: SignedDecision,
  env: NodeJS.ProcessEnv,
): Promise<GateVerdict> {
  if (!signers) return { required: false };
  const refuse = (problem: string): GateVerdict => ({ required: true, problem });
  if (!signed.signature || !signed.time) return refuse(decision.howToSign);
  const skew = Math.abs(Date.now() - Date.parse(signed.time));
  if (!(skew <= SIGNATURE_MAX_AGE_MS)) {
    return refuse(`the decision was signed at ${signed.time}, more than ten minutes from now: sign it again (and check the clock)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'relflow-decision-'));
  try {
    const allowed = join(dir, 'allowed_signers');
    const signature = join(dir, 'decision.sig');
    await writeFile(allowed, `${signers.join('\n')}\n`);
    await writeFile(signature, signed.signature.endsWith('\n') ? signed.signature : `${signed.signature}\n`);
    const keygen = (args: string[], stdin?: string) => sshKeygen(args, { cwd: dir, env: { PATH: env.PATH }, stdin });
    const found = await keygen(['-Y', 'find-principals', '-s', signature, '-f', allowed]);
    const principals =
      found.code === 0
        ? found.output
            .split('\n')
            .map((line) => line.trim())
            .filter(Boolean)
        : [];
    const principal = principals.includes(signed.by) ? signed.by : principals[0];
    if (!principal) return refuse(`the key that signed this decision is not one of the allowed signers of ${decision.signersOf}`);
    const verified = await keygen(
      ['-Y', 'verify', '-f', allowed, '-I', principal, '-n', decision.namespace, '-s', signature],
      decision.payload,
    );
    const good = /Good "[^"]+" signature for (.+) with \S+ key (SHA256:[A-Za-z0-9+/=]+)/.exec(verified.output);
    if (verified.code !== 0 || !good) {
      return refuse(
        `the signature of ${principal} does not match this decision (${decision.what}): it was made for another release, run, namespace, decision or comment, or altered`,
      );
    }
    return { required: true, signer: { principal, fingerprint: good[2] } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Checks gate decisions and operator commands against the workers' trust file:
 * a gate (or `operators`) with allowed signers takes a decision only with a good
 * signature by one of them over exactly this namespace, release, run, decision,
 * comment and a time within ten minutes of now.
 */
export function createGateSignatureActivities(env: NodeJS.ProcessEnv) {
  return {
    /** Whether the workers' trust file lists allowed signers for the gate: the commands the release shows then carry --key. */
    gateTakesSignedDecisions: async (input: { gate: 'pypi' | 'docs' }): Promise<boolean> =>
      (workerSecrets(env).gateSigners(input.gate)?.length ?? 0) > 0,

    verifyGateDecision: (input: GateDecisionToVerify): Promise<GateVerdict> =>
      verifySignedDecision(
        workerSecrets(env).gateSigners(input.gate),
        input,
        {
          namespace: GATE_SIGNATURE_NAMESPACE,
          payload: gateDecisionPayload({ ...input, release: input.releaseId, time: input.time ?? '' }),
          signersOf: `gate ${input.gate}`,
          what: `${input.decision} of gate ${input.gate} of ${input.releaseId}`,
          howToSign: `gate ${input.gate} takes signed decisions only: decide with relflow approve/reject --key <your SSH key> (a key of the workers' allowed signers for ${input.gate}); the Web UI's signal form cannot pass it`,
        },
        env,
      ),

    verifyOperatorCommand: (input: OperatorCommandToVerify): Promise<GateVerdict> =>
      verifySignedDecision(
        workerSecrets(env).operatorSigners(),
        input,
        {
          namespace: OPERATOR_SIGNATURE_NAMESPACE,
          payload: operatorCommandPayload({ ...input, release: input.releaseId, time: input.time ?? '' }),
          signersOf: 'the operators',
          what: `${input.action} of ${input.releaseId}`,
          howToSign: `this release takes signed operator commands only: relflow ${input.action} --key <your SSH key> (a key of the workers' operators.allowedSigners); the Web UI's signal form cannot pass it`,
        },
        env,
      ),
  };
}
