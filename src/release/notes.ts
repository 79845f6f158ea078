import { escapeHtml } from './escapeHtml';
import type { ReleaseKind } from './version';

/** One change of a repository's release notes: a merged pull request or a commit on the build line. */
export interface NoteChange {
  sha: string;
  subject: string;
  pullRequest?: number;
}

/** What changed in one repository since the previous release of the same line. */
export interface RepositoryNotes {
  repository: string;
  /** The tag or branch compared with; absent for a repository's first release. */
  previous?: string;
  changes: NoteChange[];
  /** Changes beyond those listed. */
  more: number;
  /** Everyone who wrote a listed change, once each: authors and Co-authored-by. */
  authors: string[];
  /** For a GA: the milestones and candidates of its version. */
  prereleases?: string[];
  /** Where the repository's pull requests are (`https://github.com/o/r/pull/`), when its URL says. */
  pullUrl?: string;
}

/** The notes the release's state and history carry at most, as JSON; RELEASE-NOTES.md keeps them whole. */
export const NOTES_STATE_BUDGET = 256 * 1024;

/**
 * The notes cut to fit `budget` bytes of JSON: each repository lists fewer
 * changes (halving until they fit) and counts the rest, so a release of
 * hundreds of repositories stays far from Temporal's payload limit.
 */
export function fitNotes(notes: RepositoryNotes[], budget = NOTES_STATE_BUDGET): RepositoryNotes[] {
  let limit = Math.max(0, ...notes.map((repository) => repository.changes.length));
  let fitted = notes;
  while (JSON.stringify(fitted).length > budget && limit > 0) {
    limit = Math.floor(limit / 2);
    fitted = notes.map((repository) =>
      repository.changes.length <= limit
        ? repository
        : { ...repository, changes: repository.changes.slice(0, limit), more: repository.more + repository.changes.length - limit },
    );
  }
  return fitted;
}

/** A tag naming template split around the value it varies by (`v{{ version }}` -> prefix `v`). */
export interface TagShape {
  prefix: string;
  suffix: string;
}

/** What the previous release of a repository is chosen by. */
export interface PreviousReleaseQuery {
  kind: ReleaseKind;
  /** The repository's stream version in tag form: `3.4m5`, `3.4`, `3.4.2`, `1.5m1`. */
  version: string;
  /** YYYYMMDD, for a nightly. */
  date?: string;
  releaseTag: TagShape;
  nightlyTag: TagShape;
  /** For a patch: the previous patch's branch (`3.4-patch1`), when there was one. */
  previousPatchBranch?: string;
}

/** Changes listed per repository at most; the rest are counted. */
export const NOTES_LIMIT = 200;

interface VersionKey {
  name: string;
  key: number[];
  major: number;
  minor: number;
  patch: number;
  pre?: 'm' | 'rc';
}

function versionKey(name: string, version: string): VersionKey | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?(?:(m|rc)(\d+))?$/.exec(version);
  if (!match) return undefined;
  const [major, minor, patch] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
  const pre = match[4] as 'm' | 'rc' | undefined;
  return { name, major, minor, patch, pre, key: [major, minor, patch, pre === 'm' ? 0 : pre === 'rc' ? 1 : 2, Number(match[5] ?? 0)] };
}

function compareKeys(a: number[], b: number[]): number {
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return a[index] - b[index];
  return 0;
}

function inner(tag: string, shape: TagShape): string | undefined {
  if (!tag.startsWith(shape.prefix) || !tag.endsWith(shape.suffix) || tag.length <= shape.prefix.length + shape.suffix.length)
    return undefined;
  return tag.slice(shape.prefix.length, tag.length - shape.suffix.length);
}

function latest(keys: VersionKey[]): VersionKey | undefined {
  return [...keys].sort((a, b) => compareKeys(b.key, a.key))[0];
}

/**
 * The release this one is compared with, from the repository's tags and
 * branches: a nightly with the previous nightly; a milestone or candidate with
 * the previous one of its version, else the last GA before it; a GA with the
 * last GA (and its own milestones listed); a patch with the previous patch's
 * branch, else the last GA or tagged patch before it. A first nightly takes
 * the newest release, when the repository has one.
 */
export function previousRelease(
  query: PreviousReleaseQuery,
  tags: string[],
  branches: string[],
): { previous?: string; prereleases?: string[] } {
  const releases = tags
    .map((tag) => {
      const version = inner(tag, query.releaseTag);
      return version === undefined ? undefined : versionKey(tag, version);
    })
    .filter((key): key is VersionKey => key !== undefined);
  if (query.kind === 'nightly') {
    const dates = tags
      .map((tag) => ({ tag, date: inner(tag, query.nightlyTag) }))
      .filter((entry): entry is { tag: string; date: string } => Boolean(entry.date && /^\d{8}$/.test(entry.date)))
      .filter((entry) => !query.date || entry.date < query.date)
      .sort((a, b) => b.date.localeCompare(a.date));
    // The first nightly of a repository that has releases is compared with the newest of them, not called the first release.
    const previous = dates[0]?.tag ?? latest(releases)?.name;
    return previous ? { previous } : {};
  }
  const current = versionKey('', query.version);
  if (!current) return {};
  const released = releases.filter((key) => compareKeys(key.key, current.key) < 0);
  const finals = released.filter((key) => !key.pre);
  if (current.pre) {
    const sameVersion = released.filter(
      (key) => key.pre && key.major === current.major && key.minor === current.minor && key.patch === current.patch,
    );
    const previous = latest(sameVersion) ?? latest(finals);
    return previous ? { previous: previous.name } : {};
  }
  if (query.kind === 'patch' && query.previousPatchBranch && branches.includes(query.previousPatchBranch)) {
    return { previous: query.previousPatchBranch };
  }
  const prereleases =
    query.kind === 'ga'
      ? released
          .filter((key) => key.pre && key.major === current.major && key.minor === current.minor && key.patch === current.patch)
          .sort((a, b) => compareKeys(a.key, b.key))
          .map((key) => key.name)
      : undefined;
  const previous = latest(finals);
  return { ...(previous ? { previous: previous.name } : {}), ...(prereleases?.length ? { prereleases } : {}) };
}

/** The pull request a commit names: GitHub's merge commit, or a squash merge's `(#123)`, or the first `#123`. */
export function pullRequestOf(subject: string): number | undefined {
  const match = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject) ?? /(?:^|\s)#(\d+)\b/.exec(subject);
  return match ? Number(match[1]) : undefined;
}

/** `https://github.com/o/r/pull/` for an http(s) or scp-style remote of a git host; undefined for a path. */
export function pullUrlOf(url: string): string | undefined {
  const scp = /^[\w.-]+@([\w.-]+):(.+?)(?:\.git)?\/?$/.exec(url);
  if (scp) return `https://${scp[1]}/${scp[2]}/pull/`;
  const http = /^https?:\/\/(?:[^@/]+@)?([^/]+)\/(.+?)(?:\.git)?\/?$/i.exec(url);
  return http ? `https://${http[1]}/${http[2]}/pull/` : undefined;
}

export interface LoggedCommit {
  sha: string;
  parents: string[];
  author: string;
  authorEmail: string;
  subject: string;
  body: string;
}

/**
 * A repository's notes from every commit since the previous release, newest
 * first (`git log` of the range): one line per change on the release line
 * (its first parents: a merged pull request is one line), and as authors
 * everyone who wrote a commit of the range, merged branches included, with
 * their co-authors. Commits by relflow's own identity (version commits) are
 * left out; so are merge commits' authors, who merged rather than wrote.
 */
export function repositoryNotes(
  repository: string,
  url: string,
  previous: { previous?: string; prereleases?: string[] },
  commits: LoggedCommit[],
  relflowEmail: string,
  head = commits[0]?.sha,
): RepositoryNotes {
  const bySha = new Map(commits.map((commit) => [commit.sha, commit]));
  const line: LoggedCommit[] = [];
  for (let commit = head ? bySha.get(head) : undefined; commit; commit = bySha.get(commit.parents[0] ?? '')) line.push(commit);
  const ours = (commit: LoggedCommit) => commit.authorEmail.toLowerCase() === relflowEmail.toLowerCase();
  const listed = line.filter((commit) => !ours(commit));
  const changes: NoteChange[] = listed.slice(0, NOTES_LIMIT).map((commit) => {
    const merge = /^Merge pull request #\d+/.test(commit.subject);
    const title = merge
      ? (commit.body
          .split('\n')
          .find((text) => text.trim() && !/^[\w-]+:\s/.test(text))
          ?.trim() ?? commit.subject)
      : commit.subject;
    return { sha: commit.sha, subject: title, pullRequest: pullRequestOf(commit.subject) };
  });
  const authors = new Map<string, string>();
  for (const commit of commits) {
    if (ours(commit)) continue;
    const people = [
      ...(commit.parents.length > 1 ? [] : [[commit.author, commit.authorEmail]]),
      ...[...commit.body.matchAll(/^Co-authored-by:\s*(.+?)\s*<([^>]+)>\s*$/gim)].map((match) => [match[1], match[2]]),
    ];
    for (const [name, email] of people) if (!authors.has(email.toLowerCase())) authors.set(email.toLowerCase(), name);
  }
  return {
    repository,
    ...(previous.previous ? { previous: previous.previous } : {}),
    changes,
    more: Math.max(0, listed.length - NOTES_LIMIT),
    authors: [...authors.values()],
    ...(previous.prereleases ? { prereleases: previous.prereleases } : {}),
    ...(pullUrlOf(url) ? { pullUrl: pullUrlOf(url) } : {}),
  };
}

/** A change's title without the `(#123)` a squash merge ends with: the reference is shown once, beside it. */
function titleOf(change: NoteChange): string {
  return change.subject.replace(/\s*\(#\d+\)\s*$/, '');
}

function since(notes: RepositoryNotes): string {
  return notes.previous ? `since ${notes.previous}` : 'first release';
}

function changeMarkdown(notes: RepositoryNotes, change: NoteChange): string {
  const subject = titleOf(change);
  const reference = change.pullRequest
    ? notes.pullUrl
      ? `[#${change.pullRequest}](${notes.pullUrl}${change.pullRequest})`
      : `#${change.pullRequest}`
    : change.sha.slice(0, 12);
  return `${subject} (${reference})`;
}

/** One repository's part of the notes in Markdown, under its heading. */
function repositorySection(repository: RepositoryNotes, heading: string): string[] {
  const lines = [`${heading} ${repository.repository} (${since(repository)})`, ''];
  if (repository.changes.length === 0) return [...lines, `No change ${since(repository)}.`, ''];
  lines.push(...repository.changes.map((change) => `- ${changeMarkdown(repository, change)}`));
  if (repository.more) lines.push(`- and ${repository.more} more`);
  lines.push('', `Authors: ${repository.authors.join(', ')}`);
  if (repository.prereleases?.length) lines.push(`Milestones and candidates: ${repository.prereleases.join(', ')}`);
  return [...lines, ''];
}

/** RELEASE-NOTES.md: a section per repository. */
export function notesMarkdown(title: string, notes: RepositoryNotes[]): string {
  return [`# Release notes: ${title}`, '', ...notes.flatMap((repository) => repositorySection(repository, '##'))].join('\n');
}

/** A GitHub release's text: which release it belongs to, the repository's notes, and the release's files with their sha256. */
export function githubReleaseBody(
  title: string,
  repository: string,
  notes: RepositoryNotes | undefined,
  files: readonly { file: string; sha256: string; urls: string[] }[],
): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    `Part of ${title}.`,
    '',
    ...(notes ? repositorySection(notes, '###') : [`### ${repository}`, '']),
    '### Files',
    '',
    '| file | sha256 |',
    '| --- | --- |',
    ...files.map((file) => `| ${file.urls[0] ? `[${cell(file.file)}](${file.urls[0]})` : cell(file.file)} | \`${file.sha256}\` |`),
    '',
  ].join('\n');
}

/** The notes in an email's text part: plain lines, no Markdown. */
export function notesText(notes: RepositoryNotes[]): string[] {
  return notes.flatMap((repository) => {
    if (repository.changes.length === 0) return [`  ${repository.repository}: no change ${since(repository)}`];
    const reference = (change: NoteChange) => (change.pullRequest ? `#${change.pullRequest}` : change.sha.slice(0, 12));
    return [
      `  ${repository.repository} (${since(repository)}):`,
      ...repository.changes.map((change) => `    - ${titleOf(change)} (${reference(change)})`),
      ...(repository.more ? [`    - and ${repository.more} more`] : []),
      `    Authors: ${repository.authors.join(', ')}`,
      ...(repository.prereleases?.length ? [`    Milestones and candidates: ${repository.prereleases.join(', ')}`] : []),
    ];
  });
}

/** The notes in an email's HTML part. */
export function notesHtml(notes: RepositoryNotes[]): string {
  return notes
    .map((repository) => {
      const heading = `<h4>${escapeHtml(repository.repository)} <small>(${escapeHtml(since(repository))})</small></h4>`;
      if (repository.changes.length === 0) return `${heading}<p>No change ${escapeHtml(since(repository))}.</p>`;
      const item = (change: NoteChange) => {
        const subject = escapeHtml(titleOf(change));
        const reference = change.pullRequest
          ? repository.pullUrl
            ? `<a href="${escapeHtml(`${repository.pullUrl}${change.pullRequest}`)}">#${change.pullRequest}</a>`
            : `#${change.pullRequest}`
          : `<code>${change.sha.slice(0, 12)}</code>`;
        return `<li>${subject} (${reference})</li>`;
      };
      return (
        `${heading}<ul>${repository.changes.map(item).join('')}${repository.more ? `<li>and ${repository.more} more</li>` : ''}</ul>` +
        `<p>Authors: ${escapeHtml(repository.authors.join(', '))}` +
        (repository.prereleases?.length ? `<br>Milestones and candidates: ${escapeHtml(repository.prereleases.join(', '))}` : '') +
        '</p>'
      );
    })
    .join('');
}

/** One line per repository, for `relflow report`. */
export function notesSummary(notes: RepositoryNotes[]): string[] {
  return notes.map((repository) =>
    repository.changes.length === 0
      ? `${repository.repository}: no change ${since(repository)}`
      : `${repository.repository} ${since(repository)}: ${repository.changes.map((change) => changeMarkdown(repository, change)).join('; ')}` +
        `${repository.more ? `; and ${repository.more} more` : ''} (by ${repository.authors.join(', ')})`,
  );
}
