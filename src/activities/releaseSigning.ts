import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { sshKeygen } from './gateSignatures';
import { workerSecrets } from './secrets';

/** The namespace of release signatures: a signature made for a gate decision is no signature of a release. */
export const RELEASE_SIGNATURE_NAMESPACE = 'relflow-release';

/**
 * Signs these bytes with the workers' release key (signing.key of the secrets
 * file): the armored SSHSIG text and the key's SHA256 fingerprint, or nothing
 * when the file names no key. An Ed25519 signature is deterministic, so a
 * retry signs to the same bytes and stores nothing new.
 */
export async function signWithReleaseKey(
  what: string,
  bytes: Buffer | string,
  env: NodeJS.ProcessEnv,
): Promise<{ signature: Buffer; keyid: string } | undefined> {
  const key = workerSecrets(env).releaseSigningKey;
  if (!key) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'relflow-sign-'));
  try {
    const file = join(dir, 'signed');
    await writeFile(file, bytes);
    const keygen = (args: string[]) => sshKeygen(args, { cwd: dir, env: { PATH: env.PATH } });
    const signed = await keygen(['-q', '-Y', 'sign', '-n', RELEASE_SIGNATURE_NAMESPACE, '-f', key, file]);
    const fingerprint = signed.code === 0 ? await keygen(['-l', '-E', 'sha256', '-f', key]) : signed;
    if (signed.code !== 0 || fingerprint.code !== 0) {
      // The message of ssh-keygen names the key file, never its content.
      throw ApplicationFailure.nonRetryable(
        `signing ${what} with the release key (signing.key ${key} of the workers' secrets file) failed: ${fingerprint.output.trim().split('\n').slice(-1)[0]}`,
        'SigningFailed',
      );
    }
    return { signature: await readFile(`${file}.sig`), keyid: fingerprint.output.split(' ')[1] ?? '' };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
