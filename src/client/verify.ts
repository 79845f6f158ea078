import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../config/errors';
import { RELEASE_SIGNATURE_NAMESPACE } from '../activities/releaseSigning';
import { sshKeygen } from '../activities/gateSignatures';
import { remoteRefs } from '../activities/gitWorkspace';
import { sha256File } from '../activities/storage';
import {
  type DsseEnvelope,
  DSSE_PAYLOAD_TYPE,
  dssePae,
  INTOTO_STATEMENT_TYPE,
  PROVENANCE_SUFFIX,
  type ProvenanceStatement,
  SLSA_PROVENANCE_TYPE,
  statementSource,
} from '../release/provenance';

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
  // fetch's own failures (no such host, a redirect loop, a body cut short of its Content-Length) as one line naming the URL.
  const failed = (name: string, error: unknown) => {
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    return new UserError(`${url(name)}: cannot be fetched (${cause?.code ?? cause?.message ?? (error as Error).message})`);
  };
  const get = async (name: string) => {
    let response: Response;
    try {
      response = await fetch(url(name));
    } catch (error) {
      throw failed(name, error);
    }
    if (response.status === 404) return undefined;
    if (response.status === 403)
      throw new UserError(`${url(name)}: HTTP 403 (forbidden: the server refuses to serve it, which is not the same as missing)`);
    if (!response.ok) throw new UserError(`${url(name)}: HTTP ${response.status}`);
    return response;
  };
  return {
    where: base,
    read: async (name) => {
      const response = await get(name);
      try {
        return response ? Buffer.from(await response.arrayBuffer()) : undefined;
      } catch (error) {
        throw failed(name, error);
      }
    },
    async sha256(name) {
      const response = await get(name);
      if (!response?.body) return undefined;
      const hash = createHash('sha256');
      try {
        for await (const chunk of response.body) hash.update(chunk);
      } catch (error) {
        throw failed(name, error);
      }
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

/** More files than any release stores: a longer SHA256SUMS is refused before anything is fetched for it. */
const MAX_CHECKSUM_LINES = 10_000;

/** The lines of SHA256SUMS; a name that could leave the release's directory, or that is listed twice, is refused. */
function parseChecksums(text: string): { file: string; sha256: string }[] {
  const lines = text.split('\n').filter(Boolean);
  // Signed or not, a listing of nothing would let every check pass with no file checked.
  if (lines.length === 0) throw new UserError('SHA256SUMS: lists no file; a release lists every file it stores');
  if (lines.length > MAX_CHECKSUM_LINES) {
    throw new UserError(`SHA256SUMS: ${lines.length} lines; a release lists at most ${MAX_CHECKSUM_LINES} files`);
  }
  const seen = new Map<string, number>();
  return lines.map((line, index) => {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match || match[2].includes('/') || match[2].startsWith('.') || match[2].startsWith('-')) {
      throw new UserError(`SHA256SUMS line ${index + 1}: expected '<sha256>  <file name>', got '${line.slice(0, 120)}'`);
    }
    // eslint-disable-next-line no-control-regex -- control characters (a NUL) are what it refuses
    if (/[\x00-\x1f\x7f]/.test(match[2])) {
      throw new UserError(
        `SHA256SUMS line ${index + 1}: the file name has a control character (${JSON.stringify(match[2]).slice(0, 120)})`,
      );
    }
    const first = seen.get(match[2]);
    if (first !== undefined) throw new UserError(`SHA256SUMS line ${index + 1}: ${match[2]} is listed again (first on line ${first})`);
    seen.set(match[2], index + 1);
    return { sha256: match[1], file: match[2] };
  });
}

/** ssh-keygen -Y verify against an allowed_signers file: the principal that signed, or why not. */
async function checkSignature(signed: Buffer, signature: Buffer, allowedSigners: string): Promise<{ ok: boolean; detail: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'relflow-verify-'));
  try {
    const sig = join(dir, 'signature.sig');
    await writeFile(sig, signature);
    const env = { PATH: process.env.PATH };
    const found = await sshKeygen(['-Y', 'find-principals', '-s', sig, '-f', resolve(allowedSigners)], { cwd: dir, env });
    const principal = found.output.trim().split('\n')[0];
    if (found.code !== 0 || !principal) {
      return { ok: false, detail: `signed by a key that ${allowedSigners} does not list` };
    }
    const verified = await sshKeygen(
      ['-Y', 'verify', '-f', resolve(allowedSigners), '-I', principal, '-n', RELEASE_SIGNATURE_NAMESPACE, '-s', sig],
      { cwd: dir, env, stdin: signed },
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
 * sha256, SHA256SUMS carries a good signature of a key the allowed_signers
 * file lists (namespace relflow-release), and so does each provenance
 * statement, whose subjects and source commit must hold too (the source unless
 * `source: false`). Every problem is a row; none is fatal.
 */
export async function verifyRelease(
  files: ReleaseFiles,
  allowedSigners: string | undefined,
  options: VerifyOptions = {},
): Promise<VerifyRow[]> {
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
  const entries = parseChecksums(sums.toString('utf8'));
  // A provenance file is read once: its bytes are hashed here and its statement checked below.
  const statements = new Map<string, Buffer | undefined>();
  for (const entry of entries) {
    let actual: string | undefined;
    if (entry.file.endsWith(PROVENANCE_SUFFIX)) {
      const body = await files.read(entry.file);
      statements.set(entry.file, body);
      actual = body && createHash('sha256').update(body).digest('hex');
    } else {
      actual = await files.sha256(entry.file);
    }
    rows.push({
      file: entry.file,
      check: 'sha256',
      ok: actual === entry.sha256,
      detail: actual === undefined ? 'missing' : actual === entry.sha256 ? entry.sha256 : `is ${actual}, SHA256SUMS says ${entry.sha256}`,
    });
  }
  if (options.release !== undefined) rows.push(await checkReleaseName(files, entries, options.release));
  const sources =
    options.source === false
      ? undefined
      : { seen: new Map<string, Promise<Map<string, string> | string>>(), insecure: options.insecureSource === true };
  for (const [name, body] of statements) {
    rows.push(...(await checkProvenance(name, body, entries, allowedSigners, sources)));
  }
  return rows;
}

export interface VerifyOptions {
  /** false: the provenance's source commits are not looked up on their remotes. */
  source?: boolean;
  /** Look sources up on remotes that are not https (ssh, http, file, paths): a statement's URL is run by git. */
  insecureSource?: boolean;
  /** The release asked for: artifacts.json, which SHA256SUMS covers, must name it. */
  release?: string;
}

/** Whether the files are the release asked for: artifacts.json (listed in SHA256SUMS) names it. */
async function checkReleaseName(files: ReleaseFiles, entries: { file: string }[], release: string): Promise<VerifyRow> {
  const row = { file: 'artifacts.json', check: 'release' };
  if (!entries.some((entry) => entry.file === 'artifacts.json')) return { ...row, ok: false, detail: 'not listed in SHA256SUMS' };
  let named: unknown;
  try {
    named = (JSON.parse((await files.read('artifacts.json'))?.toString('utf8') ?? 'null') as { release?: unknown } | null)?.release;
  } catch {
    return { ...row, ok: false, detail: 'not JSON' };
  }
  return named === release
    ? { ...row, ok: true, detail: release }
    : { ...row, ok: false, detail: `is release ${String(named).slice(0, 80)}, not ${release}` };
}

/** The statement of a provenance file (its first DSSE envelope), or why it is not one. */
function readEnvelope(text: string): { envelope: DsseEnvelope; payload: Buffer; statement: ProvenanceStatement } | string {
  try {
    const envelope = JSON.parse(text.split('\n')[0]) as DsseEnvelope;
    if (envelope.payloadType !== DSSE_PAYLOAD_TYPE || typeof envelope.payload !== 'string' || !Array.isArray(envelope.signatures)) {
      return `not a DSSE envelope of an in-toto statement (payloadType ${DSSE_PAYLOAD_TYPE})`;
    }
    const payload = Buffer.from(envelope.payload, 'base64');
    const statement = JSON.parse(payload.toString('utf8')) as ProvenanceStatement;
    if (
      statement._type !== INTOTO_STATEMENT_TYPE ||
      statement.predicateType !== SLSA_PROVENANCE_TYPE ||
      !Array.isArray(statement.subject)
    ) {
      return `not an in-toto Statement v1 with a SLSA Provenance v1 predicate`;
    }
    return { envelope, payload, statement };
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
}

/** A remote's refs (with each tag's commit as `<tag>^{}`), read once per remote; or why they could not be read. */
async function remoteCommits(url: string): Promise<Map<string, string> | string> {
  try {
    return await remoteRefs(url, [], process.env);
  } catch (error) {
    return `git ls-remote ${url} failed: ${
      String((error as Error).message ?? error)
        .trim()
        .split('\n')
        .slice(-1)[0]
    }`;
  }
}

/**
 * One provenance file: its DSSE signature by an allowed signer, its subjects
 * against SHA256SUMS (it names the file it sits beside), and its source: the
 * ref it names points at its commit on the repository's remote.
 */
async function checkProvenance(
  name: string,
  text: Buffer | undefined,
  sums: { file: string; sha256: string }[],
  allowedSigners: string | undefined,
  sources: { seen: Map<string, Promise<Map<string, string> | string>>; insecure: boolean } | undefined,
): Promise<VerifyRow[]> {
  const read = text ? readEnvelope(text.toString('utf8')) : 'missing';
  if (typeof read === 'string') return [{ file: name, check: 'provenance', ok: false, detail: read }];
  const { envelope, payload, statement } = read;
  const rows: VerifyRow[] = [];
  let signed = false;
  const sig = envelope.signatures[0]?.sig;
  if (!sig) rows.push({ file: name, check: 'provenance signature', ok: false, detail: 'missing: the statement is not signed' });
  else if (!allowedSigners)
    rows.push({ file: name, check: 'provenance signature', ok: false, detail: 'not checked: pass --allowed-signers FILE' });
  else {
    const checked = await checkSignature(dssePae(envelope.payloadType, payload), Buffer.from(sig, 'base64'), allowedSigners);
    signed = checked.ok;
    rows.push({ file: name, check: 'provenance signature', ...checked });
  }
  const listed = new Map(sums.map((entry) => [entry.file, entry.sha256]));
  const subject = name.slice(0, -PROVENANCE_SUFFIX.length);
  const wrong = statement.subject.filter((entry) => listed.get(entry.name) !== entry.digest?.sha256).map((entry) => entry.name);
  const names = statement.subject.map((entry) => entry.name);
  rows.push({
    file: name,
    check: 'provenance subjects',
    ok: wrong.length === 0 && names.includes(subject),
    detail: !names.includes(subject)
      ? `does not name ${subject}`
      : wrong.length > 0
        ? `digest of ${wrong.join(', ')} differs from SHA256SUMS`
        : `${names.join(', ')} as in SHA256SUMS${statement.predicate?.buildDefinition?.internalParameters?.reused === true ? ' (reused: stored by an earlier build of this commit, not built by this run)' : ''}`,
  });
  if (!sources) return rows;
  const source = statementSource(statement);
  if (!source) return [...rows, { file: name, check: 'provenance source', ok: false, detail: 'the statement names no source commit' }];
  // The statement's URL is run by git: only one a trusted key vouches for, and only over https unless asked.
  const notChecked = (why: string): VerifyRow[] => [
    ...rows,
    { file: name, check: 'provenance source', ok: false, detail: `not checked: ${why}` },
  ];
  if (!signed) return notChecked("the statement's signature does not hold");
  if (!sources.insecure && !/^https:\/\//i.test(source.url)) {
    return notChecked(`${source.url.slice(0, 200)} is not an https remote (--insecure-source looks it up anyway)`);
  }
  if (!sources.seen.has(source.url)) sources.seen.set(source.url, remoteCommits(source.url));
  const refs = await sources.seen.get(source.url);
  const at = typeof refs === 'string' ? undefined : (refs?.get(`${source.ref}^{}`) ?? refs?.get(source.ref));
  rows.push({
    file: name,
    check: 'provenance source',
    ok: at === source.commit,
    detail:
      typeof refs === 'string'
        ? refs
        : at === undefined
          ? `${source.ref} is not on ${source.url}`
          : at === source.commit
            ? `${source.ref} at ${source.commit.slice(0, 12)} on ${source.url}`
            : `${source.ref} is at ${at.slice(0, 12)} on ${source.url}, the statement says ${source.commit.slice(0, 12)}`,
  });
  return rows;
}
