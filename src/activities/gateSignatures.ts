import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GATE_SIGNATURE_NAMESPACE, gateDecisionPayload } from '../release/decisions';
import type { GateName, GateSigner } from '../release/model';
import { execFile } from 'node:child_process';
import { workerSecrets } from './secrets';

export interface GateDecisionToVerify {
  releaseId: string;
  gate: GateName;
  decision: 'approved' | 'rejected';
  /** Who says they decide: a key listed for several principals speaks for this one when it is among them. */
  by: string;
  comment?: string;
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

/**
 * Checks a gate decision against the workers' trust file: a gate with allowed
 * signers takes a decision only with a good signature (ssh-keygen -Y verify,
 * namespace relflow-gate) by one of them over exactly this release, gate,
 * decision, comment and a time within ten minutes of now.
 */
export function createGateSignatureActivities(env: NodeJS.ProcessEnv) {
  return {
    async verifyGateDecision(input: GateDecisionToVerify): Promise<GateVerdict> {
      const signers = workerSecrets(env).gateSigners(input.gate);
      if (!signers) return { required: false };
      const refuse = (problem: string): GateVerdict => ({ required: true, problem });
      if (!input.signature || !input.time) {
        return refuse(
          `gate ${input.gate} takes signed decisions only: decide with relflow approve/reject --key <your SSH key> (a key of the workers' allowed signers for ${input.gate}); the Web UI's signal form cannot pass it`,
        );
      }
      const skew = Math.abs(Date.now() - Date.parse(input.time));
      if (!(skew <= SIGNATURE_MAX_AGE_MS)) {
        return refuse(`the decision was signed at ${input.time}, more than ten minutes from now: sign it again (and check the clock)`);
      }
      const dir = await mkdtemp(join(tmpdir(), 'relflow-gate-'));
      try {
        const allowed = join(dir, 'allowed_signers');
        const signature = join(dir, 'decision.sig');
        await writeFile(allowed, `${signers.join('\n')}\n`);
        await writeFile(signature, input.signature.endsWith('\n') ? input.signature : `${input.signature}\n`);
        const keygen = (args: string[], stdin?: string) => sshKeygen(args, { cwd: dir, env: { PATH: env.PATH }, stdin });
        const found = await keygen(['-Y', 'find-principals', '-s', signature, '-f', allowed]);
        const principals =
          found.code === 0
            ? found.output
                .split('\n')
                .map((line) => line.trim())
                .filter(Boolean)
            : [];
        const principal = principals.includes(input.by) ? input.by : principals[0];
        if (!principal) return refuse(`the key that signed this decision is not one of the allowed signers of gate ${input.gate}`);
        const payload = gateDecisionPayload({ ...input, release: input.releaseId, time: input.time });
        const verified = await keygen(
          ['-Y', 'verify', '-f', allowed, '-I', principal, '-n', GATE_SIGNATURE_NAMESPACE, '-s', signature],
          payload,
        );
        const good = /Good "[^"]+" signature for (.+) with \S+ key (SHA256:[A-Za-z0-9+/=]+)/.exec(verified.output);
        if (verified.code !== 0 || !good) {
          return refuse(
            `the signature of ${principal} does not match this decision (${input.decision} of gate ${input.gate} of ${input.releaseId}): it was made for another release, gate, decision or comment, or altered`,
          );
        }
        return { required: true, signer: { principal, fingerprint: good[2] } };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
