import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../config/errors';
import { RELEASE_SIGNATURE_NAMESPACE } from '../activities/checksums';
import { sshKeygen } from '../activities/gateSignatures';
import { sha256File } from '../activities/storage';

/** One line of `relflow verify`: what was checked and whether it holds. */
export interface VerifyRow {
  file: string;
  check: string;
  ok: boolean;
  detail: string;
}

/** Where a release's files are read from: its directory (a mirror, a download) or its public URL. */
interface ReleaseFiles {
  where: string;
  read(name: string): Promise<Buffer | undefined>;
  sha256(name: string): Promise<string | undefined>;
}

function directoryFiles(dir: string): ReleaseFiles {
  const path = (name: string) => join(dir, name);
  return {
    where: dir,
    read: async (name) => (existsSync(path(name)) ? readFile(path(name)) : undefined),
    // A build output is a regular file: a link or a directory in its place is reported as missing.
    sha256: async (name) => (statSync(path(name), { throwIfNoEntry: false })?.isFile() ? sha256File(path(name)) : undefined),
  };
}

function urlFiles(base: string): ReleaseFiles {
  const url = (name: string) => `${base}${encodeURIComponent(name)}`;
  const get = async (name: string) => {
    const response = await fetch(url(name));
    if (response.status === 404 || response.status === 403) return undefined;
    if (!response.ok) throw new UserError(`${url(name)}: HTTP ${response.status}`);
    return response;
  };
  return {
    where: base,
    read: async (name) => {
      const response = await get(name);
      return response ? Buffer.from(await response.arrayBuffer()) : undefined;
    },
    async sha256(name) {
      const response = await get(name);
      if (!response?.body) return undefined;
      const hash = createHash('sha256');
      for await (const chunk of response.body) hash.update(chunk);
      return hash.digest('hex');
    },
  };
}

/** A directory, or the URL of a release's artifacts.json (or of its directory). */
export function releaseFilesAt(location: string): ReleaseFiles {
  if (/^https?:\/\//i.test(location)) {
    return urlFiles(location.replace(/artifacts\.json(\?.*)?$/, '').replace(/\/?$/, '/'));
  }
  const dir = resolve(location);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UserError(`${location}: not a directory, a release ID or an http(s) URL of a release's artifacts.json`);
  }
  return directoryFiles(dir);
}

/** The lines of SHA256SUMS; a name that could leave the release's directory is refused. */
function parseChecksums(text: string): { file: string; sha256: string }[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line, index) => {
      const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
      if (!match || match[2].includes('/') || match[2].startsWith('.') || match[2].startsWith('-')) {
        throw new UserError(`SHA256SUMS line ${index + 1}: expected '<sha256>  <file name>', got '${line.slice(0, 120)}'`);
      }
      return { sha256: match[1], file: match[2] };
    });
}

/** ssh-keygen -Y verify against an allowed_signers file: the principal that signed, or why not. */
async function checkSignature(sums: Buffer, signature: Buffer, allowedSigners: string): Promise<{ ok: boolean; detail: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'relflow-verify-'));
  try {
    const sig = join(dir, 'SHA256SUMS.sig');
    await writeFile(sig, signature);
    const env = { PATH: process.env.PATH };
    const found = await sshKeygen(['-Y', 'find-principals', '-s', sig, '-f', resolve(allowedSigners)], { cwd: dir, env });
    const principal = found.output.trim().split('\n')[0];
    if (found.code !== 0 || !principal) {
      return { ok: false, detail: `signed by a key that ${allowedSigners} does not list` };
    }
    const verified = await sshKeygen(
      ['-Y', 'verify', '-f', resolve(allowedSigners), '-I', principal, '-n', RELEASE_SIGNATURE_NAMESPACE, '-s', sig],
      { cwd: dir, env, stdin: sums.toString('latin1') },
    );
    return verified.code === 0
      ? { ok: true, detail: verified.output.trim().split('\n')[0] }
      : { ok: false, detail: `bad signature: ${verified.output.trim().split('\n').slice(-1)[0]}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Checks a release as a downloader would: every file of SHA256SUMS has its
 * sha256, and SHA256SUMS carries a good signature of a key the allowed_signers
 * file lists (namespace relflow-release). Every problem is a row; none is fatal.
 */
export async function verifyRelease(files: ReleaseFiles, allowedSigners: string | undefined): Promise<VerifyRow[]> {
  const rows: VerifyRow[] = [];
  const sums = await files.read('SHA256SUMS');
  if (!sums) return [{ file: 'SHA256SUMS', check: 'present', ok: false, detail: `not found in ${files.where}` }];
  const signature = await files.read('SHA256SUMS.sig');
  if (!signature) {
    rows.push({ file: 'SHA256SUMS.sig', check: 'signature', ok: false, detail: 'missing: the release is not signed' });
  } else if (!allowedSigners) {
    rows.push({ file: 'SHA256SUMS.sig', check: 'signature', ok: false, detail: 'not checked: pass --allowed-signers FILE' });
  } else {
    rows.push({ file: 'SHA256SUMS.sig', check: 'signature', ...(await checkSignature(sums, signature, allowedSigners)) });
  }
  for (const entry of parseChecksums(sums.toString('utf8'))) {
    const actual = await files.sha256(entry.file);
    rows.push({
      file: entry.file,
      check: 'sha256',
      ok: actual === entry.sha256,
      detail: actual === undefined ? 'missing' : actual === entry.sha256 ? entry.sha256 : `is ${actual}, SHA256SUMS says ${entry.sha256}`,
    });
  }
  return rows;
}
