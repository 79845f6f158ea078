import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import type { Manifest } from '../config/manifest';
import type { StoredFile } from '../release/model';
import { sshKeygen } from './gateSignatures';
import { workerSecrets } from './secrets';
import { storeReleaseText } from './storage';

/** The namespace of release signatures: a signature made for a gate decision is no signature of a release. */
export const RELEASE_SIGNATURE_NAMESPACE = 'relflow-release';

/** `<sha256>  <file>` per file, sorted by name: what `sha256sum -c SHA256SUMS` reads in the release's directory. */
export function checksumsText(files: readonly Pick<StoredFile, 'file' | 'sha256'>[]): string {
  const byName = new Map(files.map((file) => [file.file, file.sha256]));
  return [...byName.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([file, sha256]) => `${sha256}  ${file}\n`)
    .join('');
}

/**
 * SHA256SUMS of every file in the release's directory (its artifacts and
 * artifacts.json, which lists the spec files with their sha256), stored beside
 * them, and SHA256SUMS.sig, signed with the workers' release key when the
 * secrets file names one. An Ed25519 signature is deterministic, so a retry
 * stores the same bytes and uploads nothing.
 */
export async function publishChecksums(
  input: { storage: NonNullable<Manifest['storage']>; keyPrefix: string; files: StoredFile[] },
  env: NodeJS.ProcessEnv,
): Promise<{ stored: StoredFile[]; signed: boolean }> {
  const sums = checksumsText(input.files);
  const store = (name: string, body: string | Buffer) => storeReleaseText(input.storage, name, `${input.keyPrefix}${name}`, body, env);
  const stored = [await store('SHA256SUMS', sums)];
  const key = workerSecrets(env).releaseSigningKey;
  if (!key) return { stored, signed: false };
  const dir = await mkdtemp(join(tmpdir(), 'relflow-checksums-'));
  try {
    const file = join(dir, 'SHA256SUMS');
    await writeFile(file, sums);
    const signed = await sshKeygen(['-q', '-Y', 'sign', '-n', RELEASE_SIGNATURE_NAMESPACE, '-f', key, file], {
      cwd: dir,
      env: { PATH: env.PATH },
    });
    if (signed.code !== 0) {
      // The message of ssh-keygen names the key file, never its content.
      throw ApplicationFailure.nonRetryable(
        `signing SHA256SUMS with the release key (signing.key ${key} of the workers' secrets file) failed: ${signed.output.trim().split('\n').slice(-1)[0]}`,
        'SigningFailed',
      );
    }
    stored.push(await store('SHA256SUMS.sig', await readFile(`${file}.sig`)));
    return { stored, signed: true };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function createChecksumActivities(env: NodeJS.ProcessEnv) {
  return {
    publishChecksums: (input: Parameters<typeof publishChecksums>[0]) => publishChecksums(input, env),
  };
}
