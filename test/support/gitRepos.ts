import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { git } from '../../src/dev/demoProduct';

export { git };

export interface RemoteSpec {
  name: string;
  files: Record<string, string | Buffer>;
  branch?: string;
  /** Extra branches, each with files changed on top of the main branch. */
  branches?: Record<string, Record<string, string>>;
  /** How many commits of history to write before the files. */
  history?: number;
}

/** A bare repository with real history, as a git server would hold it. Returns its path (the remote URL). */
export function createRemote(root: string, spec: RemoteSpec): string {
  const branch = spec.branch ?? 'master';
  const work = join(root, 'work', spec.name);
  const bare = join(root, 'remotes', `${spec.name}.git`);
  mkdirSync(work, { recursive: true });
  git(work, 'init', '-q', '-b', branch);
  for (let index = 0; index < (spec.history ?? 1); index += 1) {
    writeFileSync(join(work, 'HISTORY'), `commit ${index}\n`);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `history ${index}`);
  }
  writeFiles(work, spec.files);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', `${spec.name}: initial content`);
  for (const [name, files] of Object.entries(spec.branches ?? {})) {
    git(work, 'checkout', '-q', '-b', name);
    writeFiles(work, files);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `${name}: changes`);
    git(work, 'checkout', '-q', branch);
  }
  mkdirSync(dirname(bare), { recursive: true });
  git(root, 'clone', '-q', '--bare', work, bare);
  return bare;
}

export function writeFiles(dir: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

export function remoteSha(bare: string, ref: string): string {
  return git(bare, 'rev-parse', ref);
}

/**
 * History as a GitHub project has it, pushed to `bare`: the current head
 * tagged `3.3`; a pull request merged with GitHub's merge commit (#12, Alice),
 * tagged `3.4m1`; a squash merge (#13, Bob, with Carol and Alice as
 * co-authors); a direct commit (Carol). Returns the SHA of the direct commit.
 */
export function pullRequestHistory(bare: string, scratch: string, branch = 'master'): string {
  const work = join(scratch, `pr-history-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  git(scratch, 'clone', '-q', '-b', branch, bare, work);
  const commit = (author: string, message: string, file: string) => {
    writeFileSync(join(work, file), `${message}\n`);
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '--author', author, '-m', message);
  };
  git(work, 'tag', '3.3');
  git(work, 'checkout', '-q', '-b', 'fix-parser');
  commit('Alice <alice@example.com>', 'Fix the parser', 'parser.txt');
  git(work, 'checkout', '-q', branch);
  git(work, 'merge', '-q', '--no-ff', 'fix-parser', '-m', 'Merge pull request #12 from alice/fix-parser', '-m', 'Fix the parser');
  git(work, 'tag', '3.4m1');
  commit(
    'Bob <bob@example.com>',
    'Add retries to the client (#13)\n\nCo-authored-by: Carol <carol@example.com>\nCo-authored-by: Alice <alice@example.com>',
    'retries.txt',
  );
  commit('Carol <carol@example.com>', 'Update the README', 'README.txt');
  git(work, 'push', '-q', 'origin', branch, '3.3', '3.4m1');
  return git(work, 'rev-parse', 'HEAD');
}
