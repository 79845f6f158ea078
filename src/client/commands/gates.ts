import { Option } from 'commander';
import { parsePerson, parseReleaseId } from '../options';
import type { Command } from 'commander';
import type { GateDecisionOptions } from '../actions/gates';

/** gates: the commands of the CLI. */
export function registerGatesCommands(program: Command): void {
  const byOption = () =>
    new Option('--by <name>', 'who decides (checked against the gate approvers)')
      .argParser(parsePerson)
      .default(process.env.USER ?? 'unknown');

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
      .action(async (releaseId: string, gate: string, options: GateDecisionOptions) =>
        (await import('../actions/gates.js')).gateDecisionAction(approve, releaseId, gate, options),
      );
  }
}
