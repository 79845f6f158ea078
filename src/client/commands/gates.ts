import { Option } from 'commander';
import { UserError } from '../../config/errors';
import { decisionShapeProblem } from '../../release/decisions';
import { connectClient } from '../connection';
import type { GateName } from '../../release/model';
import { signGateDecision, signingKey } from '../gateSigning';
import { decideGate } from '../releases';
import { out, parseReleaseId } from '../options';
import type { Command } from 'commander';

/** gates: the commands of the CLI. */
export function registerGatesCommands(program: Command): void {
  const byOption = () =>
    new Option('--by <name>', 'who decides (checked against the gate approvers)').default(process.env.USER ?? 'unknown');

  for (const [name, approve] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} a gate of a waiting release (the release answers at once, or says why not)`)
      .argument('<release-id>', 'the release', parseReleaseId)
      .argument('<gate>', 'pypi or docs')
      .addOption(byOption())
      .option('--comment <text>', 'why, for the report')
      .option(
        '--key <file>',
        'the SSH key that signs the decision (a private key, or a public key whose private half is in the ssh agent); default RELFLOW_SIGNING_KEY, else ~/.ssh/id_ed25519 when it exists. Gates whose workers list allowed signers take signed decisions only',
      )
      .option('--no-sign', 'send the decision unsigned (for gates that take unsigned decisions)')
      .addHelpText(
        'after',
        `\nExamples:\n  relflow ${name} cloudify-3.4 pypi --by alice\n  relflow ${name} cloudify-3.4 pypi --by alice@example.com --key ~/.ssh/release_ed25519`,
      )
      .action(async (releaseId: string, gate: string, options: { by: string; comment?: string; key?: string; sign: boolean }) => {
        const problem = decisionShapeProblem({ gate, by: options.by, comment: options.comment });
        if (problem) throw new UserError(problem);
        const key = options.sign ? signingKey(options.key) : undefined;
        const signed = key
          ? await signGateDecision(key, { release: releaseId, gate, decision: approve ? 'approved' : 'rejected', comment: options.comment })
          : {};
        const state = await decideGate(
          await connectClient(),
          releaseId,
          { gate: gate as GateName, by: options.by, comment: options.comment, ...signed },
          approve,
        );
        // The decision was recorded: that is success for this command, a rejection included.
        out(
          `gate ${state.name} of ${releaseId}: ${state.status} by ${state.by}${state.signer ? ` (signature verified, key ${state.signer.fingerprint})` : ''}`,
        );
      });
  }
}
