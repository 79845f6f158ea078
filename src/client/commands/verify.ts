import type { Command } from 'commander';
import { UserError } from '../../config/errors';
import { isSafeName } from '../../config/names';
import { textTable } from '../../release/report';
import { connectClient } from '../connection';
import { EXIT, out } from '../options';
import { releaseState } from '../releases';
import { releaseFilesAt, verifyRelease } from '../verify';

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
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  relflow verify /mnt/tarzan/builds/org/cloudify/3.4.0/m5-RELEASE --allowed-signers relflow.allowed_signers\n' +
        '  relflow verify http://repository.cloudifysource.org/org/cloudify/3.4.0/m5-RELEASE/artifacts.json --allowed-signers FILE\n' +
        '  relflow verify cloudify-3.4m5 --allowed-signers FILE',
    )
    .action(async (release: string, options: { allowedSigners?: string; source: boolean }) => {
      let location = release;
      if (!/^https?:\/\//i.test(release) && !release.includes('/') && isSafeName(release) && !release.startsWith('.')) {
        const state = await releaseState(await connectClient(), release);
        const listing = state.stored.find((file) => file.name === 'artifacts.json');
        const url = listing?.urls.find((candidate) => /^https?:\/\//.test(candidate)) ?? listing?.urls[0]?.replace(/^file:\/\//, '');
        if (!url) throw new UserError(`release ${release} has no artifacts.json yet (stage artifacts not done)`);
        location = url.replace(/artifacts\.json$/, '');
      }
      const rows = await verifyRelease(releaseFilesAt(location), options.allowedSigners, { source: options.source });
      out(
        textTable({
          head: ['FILE', 'CHECK', 'RESULT', 'DETAIL'],
          rows: rows.map((row) => [row.file, row.check, row.ok ? 'ok' : 'FAILED', row.detail]),
        }),
      );
      const failed = rows.filter((row) => !row.ok).length;
      out(failed === 0 ? `verified: ${rows.length} checks hold` : `${failed} of ${rows.length} checks failed`);
      process.exitCode = failed === 0 ? EXIT.done : EXIT.failed;
    });
}
