import type { Manifest } from '../config/manifest';
import { mapWithLimit } from '../release/concurrency';
import type { StoredFile } from '../release/model';
import {
  fitNotes,
  LoggedCommit,
  notesMarkdown,
  PreviousReleaseQuery,
  previousRelease,
  RepositoryNotes,
  repositoryNotes,
} from '../release/notes';
import type { GitWorkspace } from './gitWorkspace';
import { describeGitFailure } from './git';
import { storeReleaseText } from './storage';

export interface ReleaseNotesInput {
  releaseId: string;
  /** The plan's release ID, which owns the stored notes (inputs scheduled before it was sent have the workflow's). */
  release?: string;
  /** `cloudify ga release 3.4`, the heading of RELEASE-NOTES.md. */
  title: string;
  tokenEnv?: string;
  /** relflow's commit identity: its version commits are not news. */
  relflowEmail: string;
  repositories: { name: string; url: string; head: string; query: PreviousReleaseQuery }[];
  parallelism: number;
  /** Where RELEASE-NOTES.md is stored, when the release stores files. */
  storage?: NonNullable<Manifest['storage']>;
  key?: string;
}

export interface ReleaseNotesResult {
  notes: RepositoryNotes[];
  file?: StoredFile;
}

const FIELD = '\u001f';
const RECORD = '\u001e';

/**
 * The release notes of every repository, from the release's working copies
 * (one `for-each-ref` and one `log` per repository), stored as RELEASE-NOTES.md.
 */
export function createReleaseNotesActivities(workspace: GitWorkspace, env: NodeJS.ProcessEnv) {
  return {
    async writeReleaseNotes(input: ReleaseNotesInput): Promise<ReleaseNotesResult> {
      const notes = await mapWithLimit(input.repositories, input.parallelism, async (repository) => {
        try {
          const git = await workspace.workingCopy(input.releaseId, repository.name, repository.url, {
            tokenEnv: input.tokenEnv,
            fetch: false,
          });
          const hasHead = await git.raw(['cat-file', '-e', `${repository.head}^{commit}`]).then(
            () => true,
            () => false,
          );
          if (!hasHead) await git.fetch();
          const refs = (await git.raw(['for-each-ref', '--format=%(refname)', 'refs/tags', 'refs/remotes/origin']))
            .split('\n')
            .filter(Boolean);
          const tags = refs.filter((ref) => ref.startsWith('refs/tags/')).map((ref) => ref.slice('refs/tags/'.length));
          const branches = refs
            .filter((ref) => ref.startsWith('refs/remotes/origin/'))
            .map((ref) => ref.slice('refs/remotes/origin/'.length));
          const previous = previousRelease(repository.query, tags, branches);
          const from = previous.previous
            ? tags.includes(previous.previous)
              ? `refs/tags/${previous.previous}`
              : `refs/remotes/origin/${previous.previous}`
            : undefined;
          const log = await git.raw([
            'log',
            '--topo-order',
            `--format=%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%s${FIELD}%b${RECORD}`,
            ...(from ? [] : ['--max-count=1000']),
            from ? `${from}..${repository.head}` : repository.head,
          ]);
          const commits: LoggedCommit[] = log
            .split(RECORD)
            .map((record) => record.replace(/^\n/, ''))
            .filter(Boolean)
            .map((record) => {
              const [sha, parents, author, authorEmail, subject, body] = record.split(FIELD);
              return { sha, parents: parents.split(' ').filter(Boolean), author, authorEmail, subject, body: body ?? '' };
            });
          return repositoryNotes(repository.name, repository.url, previous, commits, input.relflowEmail, repository.head);
        } catch (error) {
          throw describeGitFailure(error, `${repository.name}: release notes`);
        }
      });
      // The stored file lists every change; the workflow's state carries what fits.
      if (!input.storage || !input.key) return { notes: fitNotes(notes) };
      const file = await storeReleaseText(
        input.storage,
        input.release ?? input.releaseId,
        'RELEASE-NOTES.md',
        input.key,
        notesMarkdown(input.title, notes),
        env,
      );
      return { notes: fitNotes(notes), file };
    },
  };
}
