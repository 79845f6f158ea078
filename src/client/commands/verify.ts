import type { Command } from 'commander';

/** verify: the command of the CLI. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      "check a release's files against its SHA256SUMS, the signature of SHA256SUMS, and each file's provenance (signature, digests, source commit); exit 0 only when all hold",
    )
    .argument(
      '<release>',
      "a release ID (its artifacts.json is looked up), the URL of a release's artifacts.json, or a directory of its files",
    )
    .option('--allowed-signers <file>', 'an OpenSSH allowed_signers file with the release key (e.g. relflow-release ssh-ed25519 AAAA...)')
    .option('--no-source', "do not check the provenance's source commits against the git remotes (git ls-remote)")
    .option(
      '--insecure-source',
      'also look sources up on remotes that are not https (ssh, http, file paths): git runs the URL a signed statement names',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  relflow verify /mnt/tarzan/builds/org/cloudify/3.4.0/m5-RELEASE --allowed-signers relflow.allowed_signers\n' +
        '  relflow verify http://repository.cloudifysource.org/org/cloudify/3.4.0/m5-RELEASE/artifacts.json --allowed-signers FILE\n' +
        '  relflow verify cloudify-3.4m5 --allowed-signers FILE',
    )
    .action(async (release: string, options: { allowedSigners?: string; source: boolean; insecureSource?: boolean }) =>
      (await import('../actions/verify.js')).verifyAction(release, options),
    );
}
