import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { createReleaseNotesActivities } from '../../src/activities/releaseNotes';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { buildReleasePlan, notesQuery } from '../../src/release/plan';
import {
  fitNotes,
  NOTES_STATE_BUDGET,
  notesHtml,
  notesMarkdown,
  notesText,
  PreviousReleaseQuery,
  previousRelease,
  pullRequestOf,
  pullUrlOf,
  repositoryNotes,
} from '../../src/release/notes';
import { createRemote, git, pullRequestHistory } from '../support/gitRepos';
import { manifestOf } from '../support/manifests';
import { tempDir } from '../support/temporal';

const SHAPE = { prefix: '', suffix: '' };
const query = (kind: PreviousReleaseQuery['kind'], version: string, extra: Partial<PreviousReleaseQuery> = {}): PreviousReleaseQuery => ({
  kind,
  version,
  releaseTag: SHAPE,
  nightlyTag: { prefix: 'nightly-', suffix: '' },
  ...extra,
});

describe('release notes', function () {
  const tags = [
    '3.2',
    '3.3',
    '3.3m4',
    '3.4m1',
    '3.4m2',
    '3.4rc1',
    '3.4',
    '3.4.1m1',
    'nightly-20261120',
    'nightly-20261123',
    'nightly-20261125',
    'other',
  ];

  it('compare each kind with the previous release of its line', function () {
    assert.deepEqual(previousRelease(query('nightly', '3.5', { date: '20261124' }), tags, []), { previous: 'nightly-20261123' });
    assert.deepEqual(
      previousRelease(query('milestone', '3.4m2'), tags, []),
      { previous: '3.4m1' },
      'the previous milestone of the version',
    );
    assert.deepEqual(previousRelease(query('milestone', '3.4rc1'), tags, []), { previous: '3.4m2' }, 'a candidate follows the milestones');
    assert.deepEqual(previousRelease(query('milestone', '3.5m1'), tags, []), { previous: '3.4' }, 'a first milestone: the last GA');
    assert.deepEqual(
      previousRelease(
        query('ga', '3.4'),
        tags.filter((tag) => tag !== '3.4'),
        [],
      ),
      {
        previous: '3.3',
        prereleases: ['3.4m1', '3.4m2', '3.4rc1'],
      },
    );
    assert.deepEqual(previousRelease(query('patch', '3.4.2', { previousPatchBranch: '3.4-patch1' }), tags, ['master', '3.4-patch1']), {
      previous: '3.4-patch1',
    });
    assert.deepEqual(previousRelease(query('patch', '3.4.1'), tags, ['master']), { previous: '3.4' }, 'a first patch: its GA');
    assert.deepEqual(previousRelease(query('patch', '3.4.1m2'), tags, []), { previous: '3.4.1m1' });
    assert.deepEqual(
      previousRelease(query('ga', '3.4', { releaseTag: { prefix: 'v', suffix: '' } }), ['v3.3', '3.3.9', 'v3.4m1'], []),
      { previous: 'v3.3', prereleases: ['v3.4m1'] },
      'a custom tag template',
    );
    assert.deepEqual(previousRelease(query('ga', '3.0'), ['other'], []), {}, 'a first release');
    assert.deepEqual(
      previousRelease(query('nightly', '3.5', { date: '20261124' }), ['3.2', '3.3', '3.4m1', 'other'], []),
      { previous: '3.4m1' },
      'a first nightly of a repository with releases: the newest of them',
    );
    assert.deepEqual(previousRelease(query('nightly', '3.5', { date: '20261124' }), ['other'], []), {}, 'a first nightly, first release');
  });

  it("from real repositories: a core patch compares its plugin with the plugin's GA, a first nightly with the last GA", async function () {
    const root = tempDir('notes-patch');
    const plugin = createRemote(root, { name: 'cloudify-script-plugin', files: { 'setup.py': "setup(version='1.2')\n" } });
    const core = createRemote(root, { name: 'cloudify-manager', files: { 'setup.py': "setup(version='3.2')\n" } });
    const commit = (remote: string, name: string, message: string, tag?: string) => {
      const work = join(root, 'work', name);
      git(work, 'commit', '-q', '--allow-empty', '-m', message);
      if (tag) git(work, 'tag', tag);
      git(work, 'push', '-q', '--tags', remote, 'HEAD:master');
      return git(work, 'rev-parse', 'HEAD').trim();
    };
    git(join(root, 'work', 'cloudify-script-plugin'), 'tag', '1.2');
    commit(plugin, 'cloudify-script-plugin', 'Support Windows agents (#40)', '1.3');
    const pluginHead = commit(plugin, 'cloudify-script-plugin', 'Fix the process timeout (#41)');
    git(join(root, 'work', 'cloudify-manager'), 'tag', '3.2');
    commit(core, 'cloudify-manager', 'Release 3.3', '3.3');
    const coreHead = commit(core, 'cloudify-manager', 'Add the snapshot API (#90)');
    const manifest = manifestOf({
      product: 'cloudify',
      versions: { core: '3.3', plugins: '1.3' },
      repositories: [
        { name: 'cloudify-manager', url: core },
        { name: 'cloudify-script-plugin', url: plugin, stream: 'plugins' },
      ],
    });
    const notesOf = async (kind: 'patch' | 'nightly', version?: string) => {
      const plan = buildReleasePlan(manifest, { kind, version, date: '20261204' });
      const { notes } = await createReleaseNotesActivities(
        new GitWorkspace(tempDir('notes-patch-workspace'), process.env),
        process.env,
      ).writeReleaseNotes({
        releaseId: plan.releaseId,
        title: plan.releaseId,
        relflowEmail: 'release@example.com',
        repositories: plan.repositories.map((repository) => ({
          name: repository.name,
          url: repository.url,
          head: repository.name === 'cloudify-manager' ? coreHead : pluginHead,
          query: notesQuery(plan, manifest, repository),
        })),
        parallelism: 2,
      });
      return notesMarkdown(plan.releaseId, notes)
        .split('\n')
        .filter((line) => line.startsWith('## ') || line.startsWith('- '));
    };
    assert.deepEqual(await notesOf('patch', '3.3.1'), [
      '## cloudify-manager (since 3.3)',
      '- Add the snapshot API (#90)',
      '## cloudify-script-plugin (since 1.3)',
      '- Fix the process timeout (#41)',
    ]);
    assert.deepEqual(await notesOf('nightly'), [
      '## cloudify-manager (since 3.3)',
      '- Add the snapshot API (#90)',
      '## cloudify-script-plugin (since 1.3)',
      '- Fix the process timeout (#41)',
    ]);
  });

  it('the tag shapes come from the naming templates; a patch names the previous patch branch', function () {
    const manifest = manifestOf({
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: '/srv/core.git' }],
      naming: { tag: { ga: 'v{{ version }}', nightly: 'nightly/{{ date }}' } },
    });
    const patch = buildReleasePlan(manifest, { kind: 'patch', version: '3.4.3' });
    assert.deepEqual(notesQuery(patch, manifest, patch.repositories[0]), {
      kind: 'patch',
      version: '3.4.3',
      releaseTag: { prefix: 'v', suffix: '' },
      nightlyTag: { prefix: 'nightly/', suffix: '' },
      previousPatchBranch: '3.4-patch2',
    });
  });

  it("the state's notes fit a budget: fewer changes listed per repository, the rest counted", function () {
    const many = Array.from({ length: 300 }, (_, index) => ({
      repository: `repo-${index}`,
      changes: Array.from({ length: 200 }, (_unused, change) => ({
        sha: 'f'.repeat(40),
        subject: `change ${change} of a long history`,
        pullRequest: change,
      })),
      more: 5,
      authors: ['Alice'],
    }));
    assert.ok(JSON.stringify(many).length > 5 * 1024 * 1024);
    const fitted = fitNotes(many);
    assert.ok(JSON.stringify(fitted).length <= NOTES_STATE_BUDGET, String(JSON.stringify(fitted).length));
    const listed = fitted[0].changes.length;
    assert.ok(listed > 0 && listed < 200);
    assert.equal(fitted[0].more, 5 + 200 - listed, 'the rest is counted');
    assert.deepEqual(fitNotes(many.slice(0, 1)), many.slice(0, 1), 'notes that fit are left whole');
  });

  it('PR numbers and links, authors once, relflow commits left out', function () {
    assert.equal(pullRequestOf('Merge pull request #12 from alice/fix'), 12);
    assert.equal(pullRequestOf('Add retries (#13)'), 13);
    assert.equal(pullRequestOf('Fixes #7 in the parser'), 7);
    assert.equal(pullRequestOf('Bump to 3.4'), undefined);
    assert.equal(
      pullUrlOf('https://github.com/cloudify-cosmo/cloudify-rest-client.git'),
      'https://github.com/cloudify-cosmo/cloudify-rest-client/pull/',
    );
    assert.equal(pullUrlOf('git@github.com:cloudify-cosmo/cloudify-ui.git'), 'https://github.com/cloudify-cosmo/cloudify-ui/pull/');
    assert.equal(pullUrlOf('/srv/git/core.git'), undefined);
    const notes = repositoryNotes(
      'cloudify-rest-client',
      'https://github.com/cloudify-cosmo/cloudify-rest-client.git',
      { previous: '3.3' },
      [
        {
          sha: 'a'.repeat(40),
          parents: ['b'.repeat(40)],
          author: 'Release Bot',
          authorEmail: 'release@example.com',
          subject: 'Release cloudify 3.4',
          body: '',
        },
        {
          sha: 'b'.repeat(40),
          parents: ['c'.repeat(40)],
          author: 'Bob',
          authorEmail: 'bob@example.com',
          subject: 'Add retries (#13)',
          body: 'Co-authored-by: Alice <ALICE@example.com>\n',
        },
        {
          sha: 'c'.repeat(40),
          parents: ['d'.repeat(40), 'e'.repeat(40)],
          author: 'Merger',
          authorEmail: 'merger@example.com',
          subject: 'Merge pull request #12 from alice/fix',
          body: 'Fix the <parser>\n',
        },
        {
          sha: 'e'.repeat(40),
          parents: ['d'.repeat(40)],
          author: 'Dave',
          authorEmail: 'dave@example.com',
          subject: 'Fix the parser',
          body: '',
        },
      ],
      'release@example.com',
    );
    assert.deepEqual(notes.authors, ['Bob', 'Alice', 'Dave'], 'the merged branch wrote, the merger did not');
    assert.deepEqual(notesMarkdown('cloudify ga release 3.4', [notes]).split('\n'), [
      '# Release notes: cloudify ga release 3.4',
      '',
      '## cloudify-rest-client (since 3.3)',
      '',
      '- Add retries ([#13](https://github.com/cloudify-cosmo/cloudify-rest-client/pull/13))',
      '- Fix the <parser> ([#12](https://github.com/cloudify-cosmo/cloudify-rest-client/pull/12))',
      '',
      'Authors: Bob, Alice, Dave',
      '',
    ]);
    const html = notesHtml([notes]);
    assert.ok(
      html.includes('<li>Fix the &lt;parser&gt; (<a href="https://github.com/cloudify-cosmo/cloudify-rest-client/pull/12">#12</a>)</li>'),
      html,
    );
    assert.deepEqual(notesText([notes]).slice(0, 3), [
      '  cloudify-rest-client (since 3.3):',
      '    - Add retries (#13)',
      '    - Fix the <parser> (#12)',
    ]);
  });

  it('from real repositories: merged pull requests since the last GA, its milestones, and a repository with no change', async function () {
    const root = tempDir('notes');
    const changed = createRemote(root, { name: 'cloudify-rest-client', files: { 'setup.py': "setup(version='3.3')\n" } });
    const quiet = createRemote(root, { name: 'cloudify-ui', files: { 'package.json': '{"version": "3.3"}\n' } });
    const readme = pullRequestHistory(changed, root);
    // relflow's version commit on top of the release line: not news.
    const work = join(root, 'release-work');
    git(root, 'clone', '-q', changed, work);
    git(work, 'commit', '-q', '--allow-empty', '--author', 'Release Bot <release@example.com>', '-m', 'Release cloudify 3.4');
    const head = git(work, 'rev-parse', 'HEAD');
    git(work, 'push', '-q', 'origin', 'HEAD:refs/heads/3.4-build');
    git(quiet, 'tag', '3.3', 'master');
    const manifest = manifestOf({
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'cloudify-rest-client', url: changed },
        { name: 'cloudify-ui', url: quiet },
      ],
      git: { author: { name: 'Release Bot', email: 'release@example.com' } },
    });
    const plan = buildReleasePlan(manifest, { kind: 'ga', version: '3.4' });
    const workspace = new GitWorkspace(tempDir('notes-workspace'), process.env);
    const { notes } = await createReleaseNotesActivities(workspace, process.env).writeReleaseNotes({
      releaseId: plan.releaseId,
      title: 'cloudify ga release 3.4',
      relflowEmail: 'release@example.com',
      repositories: plan.repositories.map((repository) => ({
        name: repository.name,
        url: repository.url,
        head: repository.name === 'cloudify-rest-client' ? head : git(quiet, 'rev-parse', 'master'),
        query: notesQuery(plan, manifest, repository),
      })),
      parallelism: 2,
    });
    assert.deepEqual(notesMarkdown('cloudify ga release 3.4', notes).split('\n'), [
      '# Release notes: cloudify ga release 3.4',
      '',
      '## cloudify-rest-client (since 3.3)',
      '',
      `- Update the README (${readme.slice(0, 12)})`,
      '- Add retries to the client (#13)',
      '- Fix the parser (#12)',
      '',
      'Authors: Carol, Bob, Alice',
      'Milestones and candidates: 3.4m1',
      '',
      '## cloudify-ui (since 3.3)',
      '',
      'No change since 3.3.',
      '',
    ]);
  });
});
