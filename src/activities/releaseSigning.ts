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
  namespace = RELEASE_SIGNATURE_NAMESPACE,
): Promise<{ signature: Buffer; keyid: string } | undefined> {
  const key = workerSecrets(env).releaseSigningKey;
  if (!key) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'relflow-sign-'));
  try {
    const file = join(dir, 'signed');
    await writeFile(file, bytes);
    const keygen = (args: string[]) => sshKeygen(args, { cwd: dir, env: { PATH: env.PATH } });
    const signed = await keygen(['-q', '-Y', 'sign', '-n', namespace, '-f', key, file]);
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

/** Whether this worker checks release signatures (it holds the key, or only its public half): without either, none is looked for. */
export function holdsReleaseKey(env: NodeJS.ProcessEnv): boolean {
  const secrets = workerSecrets(env);
  return secrets.releaseSigningKey !== undefined || secrets.releasePublicKey !== undefined;
}

/**
 * Whether `signature` is the workers' release key's signature of these bytes
 * in this namespace (ssh-keygen -Y verify against the key's own public half);
 * undefined when the secrets file names no key.
 */
export async function signedByReleaseKey(
  bytes: Buffer | string,
  signature: string | undefined,
  env: NodeJS.ProcessEnv,
  namespace: string,
): Promise<boolean | undefined> {
  const { releaseSigningKey: key, releasePublicKey } = workerSecrets(env);
  if (!key && !releasePublicKey) return undefined;
  if (!signature?.startsWith('-----BEGIN SSH SIGNATURE-----')) return false;
  const dir = await mkdtemp(join(tmpdir(), 'relflow-verify-'));
  try {
    const keygen = (args: string[], stdin?: Buffer | string) => sshKeygen(args, { cwd: dir, env: { PATH: env.PATH }, stdin });
    const publicKey = releasePublicKey
      ? { code: 0, output: (await readFile(releasePublicKey, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ') }
      : await keygen(['-y', '-f', key as string]);
    if (publicKey.code !== 0) return false;
    await writeFile(join(dir, 'allowed'), `relflow ${publicKey.output.trim()}\n`);
    await writeFile(join(dir, 'signature'), signature);
    const verified = await keygen(['-Y', 'verify', '-f', 'allowed', '-I', 'relflow', '-n', namespace, '-s', 'signature'], bytes);
    return verified.code === 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
