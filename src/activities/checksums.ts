import { Context } from '@temporalio/activity';
import type { Manifest } from '../config/manifest';
import type { StoredFile } from '../release/model';
import { signWithReleaseKey } from './releaseSigning';
import { storeReleaseText } from './storage';

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
  input: { storage: NonNullable<Manifest['storage']>; release?: string; keyPrefix: string; files: StoredFile[] },
  env: NodeJS.ProcessEnv,
): Promise<{ stored: StoredFile[]; signed: boolean }> {
  const sums = checksumsText(input.files);
  // Scheduled before the input named its release: the release workflow's ID is its release ID.
  const release = input.release ?? Context.current().info.workflowExecution?.workflowId ?? '';
  const store = (name: string, body: string | Buffer) =>
    storeReleaseText(input.storage, release, name, `${input.keyPrefix}${name}`, body, env);
  const stored = [await store('SHA256SUMS', sums)];
  const signed = await signWithReleaseKey('SHA256SUMS', sums, env);
  if (!signed) return { stored, signed: false };
  stored.push(await store('SHA256SUMS.sig', signed.signature));
  return { stored, signed: true };
}

export function createChecksumActivities(env: NodeJS.ProcessEnv) {
  return {
    publishChecksums: (input: Parameters<typeof publishChecksums>[0]) => publishChecksums(input, env),
  };
}
