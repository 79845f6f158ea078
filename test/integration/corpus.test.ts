import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import type { ManifestInput } from '../../src/config/manifest';
import { motoEndpoint, MOTO_ENV } from '../../src/dev/localServices';
import { decideGate, operateRelease } from '../../src/client/releases';
import { releaseWorkflow } from '../../src/workflows';
import { approveSignal, releaseStateQuery } from '../../src/workflows/api';
import { errorMessage } from '../../src/workflows/tracker';
import { CONTROL_CHARACTERS } from '../../src/release/decisions';
import { runCliAsync } from '../support/cli';
import { fakeActivities } from '../support/fakeActivities';
import { createRemote, git } from '../support/gitRepos';
import { manifestOf } from '../support/manifests';
import { createTestWorker, tempDir, testClient, testServer, uniqueTaskQueue, withWorkers } from '../support/temporal';

/**
 * The hostile-input corpus: manifests, CLI arguments, raw signals and updates,
 * and releases started directly by any client. Every input is refused with
 * one line that names what was wrong, and nothing changes on the remotes, the
 * bucket or the mirror.
 */

const SECRET = 'ghp_R3alLookingT0kenValue0123456789abcd';
type Edit = (manifest: Record<string, unknown>) => void;
const repositories = (m: Record<string, unknown>) => m.repositories as Record<string, unknown>[];
const artifact = (fields: Record<string, unknown>) => ({ name: 'ui', repository: 'core', command: 'make', outputs: ['ui.tgz'], ...fields });

/** [what, the edit of a valid manifest, the one line expected after "relflow: <file>: "]. */
const MANIFEST_CASES: [string, Edit, RegExp][] = [
  ['no product', (m) => delete m.product, /^product: required/],
  ['a product with a slash', (m) => (m.product = 'a/b'), /^product: /],
  ['a product too long for a workflow ID', (m) => (m.product = 'p'.repeat(150)), /^product: at most 100 characters/],
  ['a core version that is not a version', (m) => (m.versions = { core: 'three', plugins: '1.4' }), /^versions\.core: /],
  ['no repositories', (m) => (m.repositories = []), /^repositories: at least one repository/],
  ['a repository name with ..', (m) => (repositories(m)[0].name = '../core'), /^repositories\[0\]\.name: /],
  ['a repository name starting with -', (m) => (repositories(m)[0].name = '-core'), /^repositories\[0\]\.name: /],
  [
    'a repository URL with a password',
    (m) => (repositories(m)[0].url = 'https://bot:s3cretPassw0rd@github.com/o/core.git'),
    /^repositories\[0\]\.url: credentials in the URL/,
  ],
  ['a repository URL that is an option', (m) => (repositories(m)[0].url = '--upload-pack=touch /tmp/x'), /^repositories\[0\]\.url: /],
  ['a repository field misspelt', (m) => (repositories(m)[0].ulr = 'x'), /^repositories\[0\]: unknown field 'ulr'/],
  [
    'two repositories of one name',
    (m) => repositories(m).push({ ...repositories(m)[0] }),
    /^repositories\[2\]\.name: 'core' is already the name of repositories\[0\]/,
  ],
  ['an unknown stream', (m) => (repositories(m)[1].stream = 'plugin'), /^repositories\[1\]\.stream: expected one of 'core', 'plugins'/],
  [
    'a types.yaml outside the repository',
    (m) => (repositories(m)[0].typesYaml = '../../home/.netrc'),
    /^repositories\[0\]\.typesYaml: a relative path/,
  ],
  ['an absolute plugin.yaml', (m) => (repositories(m)[1].pluginYaml = '/etc/passwd'), /^repositories\[1\]\.pluginYaml: a relative path/],
  [
    'a branch that is not a ref',
    (m) => (repositories(m)[0].branch = 'master..x'),
    /^repositories\[0\]\.branch: a git branch name \(no spaces, no \.\., no leading -\)$/,
  ],
  [
    'a branch that is an option',
    (m) => (repositories(m)[0].branch = '--upload-pack=touch /tmp/x'),
    /^repositories\[0\]\.branch: a git branch name/,
  ],
  [
    'a PyPI package directory outside the repository',
    (m) => (repositories(m)[0].pypi = { packageDir: '../..' }),
    /^repositories\[0\]\.pypi\.packageDir: a relative path/,
  ],
  [
    'an output outside the build',
    (m) => (m.artifacts = [artifact({ outputs: ['../../etc/passwd'] })]),
    /^artifacts\[0\]\.outputs\[0\]: a relative path inside the repository/,
  ],
  [
    'an absolute output',
    (m) => (m.artifacts = [artifact({ outputs: ['/proc/self/environ'] })]),
    /^artifacts\[0\]\.outputs\[0\]: a relative path/,
  ],
  [
    'an output that reads as an option',
    (m) => (m.artifacts = [artifact({ outputs: ['--checkpoint-action=exec=sh'] })]),
    /^artifacts\[0\]\.outputs\[0\]: a relative path/,
  ],
  ['an artifact name with ..', (m) => (m.artifacts = [artifact({ name: '../../x' })]), /^artifacts\[0\]\.name: /],
  [
    'an artifact of an unknown repository',
    (m) => (m.artifacts = [artifact({ repository: 'nope' })]),
    /^artifacts\[0\]\.repository: 'nope' is not a repository of this manifest/,
  ],
  [
    'a vagrant directory outside the repository',
    (m) => (m.artifacts = [artifact({ builder: 'vagrant', vagrant: { directory: '../..' } })]),
    /^artifacts\[0\]\.vagrant\.directory: a relative path/,
  ],
  [
    'a storage layout that steps out of the release',
    (m) => ((m.storage as Record<string, unknown>).layout = 'org/../../{{ product }}/{{ file }}'),
    /^storage\.layout: renders to 'org\/\.\.\/\.\.\/corpus\/file\.tgz' for a milestone, which has a '\.\.' part/,
  ],
  [
    'a spec layout that starts with a step out',
    (m) => {
      (m.storage as Record<string, unknown>).specLayout = '../{{ spec_name }}/{{ file }}';
      repositories(m)[1].pluginYaml = 'plugin.yaml';
    },
    /^storage\.specLayout: renders to '\.\.\/.*' for a nightly, which has a '\.\.' part/,
  ],
  [
    'an ec2 output with shell characters',
    (m) =>
      (m.artifacts = [
        artifact({ builder: 'ec2', ec2: { imageId: 'ami-12345678', instanceType: 't3.small' }, outputs: ['alpha.tgz;touch x'] }),
      ]),
    /^artifacts\.ui\.outputs: 'alpha\.tgz;touch x' may only use letters, digits, \. _ \/ - \* \? with builder ec2/,
  ],
  [
    'two outputs stored under one name',
    (m) => (m.artifacts = [artifact({ outputs: ['x/ui.tgz', 'y/ui.tgz'] })]),
    /^artifacts\.ui\.outputs: x\/ui\.tgz and y\/ui\.tgz would be stored under the same name ui\.tgz/,
  ],
  [
    'an ec2 artifact without ec2 settings',
    (m) => (m.artifacts = [artifact({ builder: 'ec2' })]),
    /^artifacts\[0\]\.ec2: required with builder ec2/,
  ],
  ['a build timeout of 30 days', (m) => (m.artifacts = [artifact({ timeout: '30d' })]), /^artifacts\[0\]\.timeout: at most 21d/],
  ['an unknown builder', (m) => (m.artifacts = [artifact({ builder: 'docker' })]), /^artifacts\[0\]\.builder: /],
  ['a bucket that is a path', (m) => ((m.storage as Record<string, unknown>).bucket = '../../x'), /^storage\.bucket: an S3 bucket name/],
  [
    'a file:// endpoint',
    (m) => ((m.storage as Record<string, unknown>).endpoint = 'file:///etc/passwd'),
    /^storage\.endpoint: an http\(s\) URL/,
  ],
  [
    'an AWS key pasted into accessKeyIdEnv',
    (m) => ((m.storage as Record<string, unknown>).accessKeyIdEnv = 'AKIAIOSFODNN7EXAMPLE'),
    /^storage\.accessKeyIdEnv: this looks like a secret/,
  ],
  [
    'a mirror path that is relative',
    (m) => ((m.storage as Record<string, unknown>).mirrors = [{ type: 'directory', name: 'm', path: '../mirror' }]),
    /^storage\.mirrors\[0\]\.path: /,
  ],
  [
    'a token pasted into ci.tokenEnv',
    (m) => (m.ci = { provider: 'github', owner: 'org', tokenEnv: SECRET }),
    /^ci\.tokenEnv: this looks like a secret/,
  ],
  ['CI polled every 0s', (m) => (m.ci = { provider: 'github', owner: 'org', pollEvery: '0s' }), /^ci\.pollEvery: at least 1s/],
  ['an unknown CI provider', (m) => (m.ci = { provider: 'jenkins' }), /^ci\.provider: /],
  ['a CI API that is not http', (m) => (m.ci = { provider: 'github', owner: 'org', apiUrl: 'ftp://api' }), /^ci\.apiUrl: an http\(s\) URL/],
  ['a reminder every 0s', (m) => (m.gates = { pypi: { reminderEvery: '0s' } }), /^gates\.pypi\.reminderEvery: at least 1s/],
  ['a gate timeout of 25 days', (m) => (m.gates = { docs: { timeout: '25d' } }), /^gates\.docs\.timeout: at most 21d/],
  [
    'a gate timeout that is not a duration',
    (m) => (m.gates = { docs: { timeout: 'soon' } }),
    /^gates\.docs\.timeout: a duration such as 90s/,
  ],
  [
    'a PyPI token pasted into passwordEnv',
    (m) => (m.pypi = { repositoryUrl: 'https://upload.pypi.org/legacy/', passwordEnv: 'pypi-AgEIcHlwaS5vcmc' }),
    /^pypi\.passwordEnv: this looks like a secret/,
  ],
  [
    'a NUL in the author name',
    (m) => (m.git = { author: { name: 'bot\u0000evil', email: 'bot@example.com' } }),
    /^git\.author\.name: a name without control characters/,
  ],
  ['a git parallelism of 1000', (m) => (m.git = { parallelism: 1000 }), /^git\.parallelism: /],
  [
    'a version rule with an invalid regex',
    (m) => (m.versionRules = [{ type: '([', match: 'x', replace: 'x', with: 'y' }]),
    /^versionRules\[0\]/,
  ],
  [
    'an unknown version preset',
    (m) => (m.versionRules = [{ preset: 'gradle' }]),
    /^versionRules\[0\]\.preset: expected one of 'cloudify', 'setup\.py'.*, got 'gradle'$/,
  ],
  [
    'a template value that does not exist',
    (m) => (m.versionRules = [{ type: 'setup\\.py', match: 'x', replace: 'x', with: '{{ nope }}' }]),
    /^versionRules\[0\]/,
  ],
  ['an unknown top-level field', (m) => (m.repos = []), /^unknown field 'repos'$/],
];

/** Whole files that are not a manifest: [what, the file's text, expected]. */
const FILE_CASES: [string, string, RegExp][] = [
  ['YAML that does not parse', 'product: [unclosed\n', /^invalid YAML: /],
  ['a list, not a mapping', '- a\n- b\n', /^expected a YAML mapping with product, versions and repositories/],
  [
    'a YAML alias bomb',
    [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 8 },
        (_, level) =>
          `${String.fromCharCode(98 + level)}: &${String.fromCharCode(98 + level)} [${Array(10)
            .fill(`*${String.fromCharCode(97 + level)}`)
            .join(',')}]`,
      ),
    ].join('\n'),
    /^invalid YAML: /,
  ],
];

describe('the hostile-input corpus: refused with one line, nothing changed on the remotes, the bucket or the mirror', function () {
  this.timeout(300_000);
  let root: string;
  let remotes: string[];
  let mirror: string;
  let s3: S3Client;
  let bucket: string;
  let base: ManifestInput;
  let env: NodeJS.ProcessEnv;
  const counts = { inputs: 0, refusedBeforeSideEffect: 0, messagesChecked: 0 };

  /** Everything a release could change outside relflow. */
  async function outside(): Promise<string> {
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    return JSON.stringify({
      refs: remotes.map((remote) => git(remote, 'for-each-ref')),
      objects: (objects.Contents ?? []).map((object) => object.Key),
      mirror: readdirSync(mirror, { recursive: true }),
    });
  }

  function oneLine(text: string, expected: RegExp, what: string): void {
    const lines = text.trim().split('\n');
    assert.equal(lines.length, 1, `${what}: expected one line, got:\n${text}`);
    assert.match(lines[0], expected, what);
    assert.doesNotMatch(lines[0], /ghp_R3al|AKIAIOSFODNN7|pypi-AgEI|s3cretPassw0rd|\n\s+at /, `${what}: a secret or a stack trace`);
    counts.messagesChecked += 1;
  }

  before(async function () {
    root = tempDir('corpus');
    remotes = [
      createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.3')\n" } }),
      createRemote(root, { name: 'script-plugin', files: { 'plugin.yaml': "package_version: '1.3'\n" } }),
    ];
    mirror = join(root, 'mirror');
    mkdirSync(mirror);
    const endpoint = await motoEndpoint();
    bucket = `corpus-${process.pid}`;
    env = { ...MOTO_ENV, TEMPORAL_ADDRESS: testServer().address, CORPUS_KEY: 'testing', CORPUS_SECRET: 'testing' };
    base = {
      product: 'corpus',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [
        { name: 'core', url: remotes[0] },
        { name: 'script-plugin', url: remotes[1], stream: 'plugins' },
      ],
      storage: {
        bucket,
        endpoint,
        accessKeyIdEnv: 'CORPUS_KEY',
        secretAccessKeyEnv: 'CORPUS_SECRET',
        mirrors: [{ type: 'directory', name: 'tarzan', path: mirror }],
      },
    };
    const manifest = manifestOf(base);
    s3 = new S3Client({
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: manifest.storage?.bucket }));
  });

  after(async function () {
    // A case that was wrongly accepted started a release: end it.
    for await (const execution of testClient().workflow.list({
      query: `WorkflowId STARTS_WITH 'corpus-' AND ExecutionStatus = 'Running'`,
    })) {
      await testClient().workflow.getHandle(execution.workflowId).terminate('the corpus test ended');
    }
    console.log(
      `      corpus: ${counts.inputs} hostile inputs, ${counts.refusedBeforeSideEffect} refused before any side effect, ${counts.messagesChecked} one-line messages checked`,
    );
    assert.ok(counts.inputs >= 60, `the corpus has ${counts.inputs} inputs`);
  });

  it(`manifests: ${MANIFEST_CASES.length + FILE_CASES.length} hostile manifests, each refused by \`relflow start\` (exit 2) naming the field`, async function () {
    const before = await outside();
    const files = [
      ...MANIFEST_CASES.map(([what, edit, expected]): [string, string, RegExp] => {
        const manifest = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
        edit(manifest);
        return [what, stringify(manifest), expected];
      }),
      ...FILE_CASES,
    ].map(([what, text, expected], index) => {
      const file = join(root, `case-${index}.yaml`);
      writeFileSync(file, text);
      return { what, file, expected };
    });
    const failures: string[] = [];
    // A few at once: each is a real `relflow` process.
    for (let index = 0; index < files.length; index += 4) {
      await Promise.all(
        files.slice(index, index + 4).map(async ({ what, file, expected }) => {
          // Its own task queue: a release that slipped through would wait there, never run by another test's worker.
          const result = await runCliAsync(['start', 'ga', '--version', '3.4', '--task-queue', 'corpus-nobody', '-c', file], env);
          counts.inputs += 1;
          const prefix = `relflow: ${file}: `;
          try {
            assert.equal(result.status, 2, `exit ${result.status}`);
            assert.equal(result.stdout, '', 'nothing on stdout');
            assert.ok(result.stderr.startsWith(prefix), 'names the file');
            oneLine(result.stderr.slice(prefix.length), expected, what);
            counts.refusedBeforeSideEffect += 1;
          } catch (error) {
            failures.push(`${what}: ${(error as Error).message.split('\n')[0]}: ${result.stderr.trim()}`);
          }
        }),
      );
    }
    assert.deepEqual(failures, []);
    assert.equal(await outside(), before, 'nothing changed on the remotes, the bucket or the mirror');
  });

  it('CLI arguments: each refused before connecting or by the server, exit 2, one line', async function () {
    const before = await outside();
    const config = join(root, 'valid.yaml');
    writeFileSync(config, stringify(base));
    const missing = join(root, 'no-such.yaml');
    const cases: [string, string[], RegExp][] = [
      ['an unknown kind', ['start', 'weekly', '-c', config], /^relflow: .*'weekly'.*nightly, milestone, ga, patch/],
      ['a GA without --version', ['start', 'ga', '-c', config], /^relflow: .*--version/],
      ['a version that is not one', ['start', 'ga', '--version', 'abc', '-c', config], /^relflow: .*'abc'/],
      ['a milestone version without m', ['start', 'milestone', '--version', '3.4', '-c', config], /^relflow: .*milestone/],
      ['a shell in the version', ['start', 'ga', '--version', '3.4;rm -rf /', '-c', config], /^relflow: .*3\.4;rm -rf/],
      [
        'a plugins version that is a path',
        ['start', 'ga', '--version', '3.4', '--plugins-version', '../1', '-c', config],
        /^relflow: .*plugins/,
      ],
      [
        'a nightly date that is no day',
        ['start', 'nightly', '--date', '20261340', '-c', config],
        /^relflow: option '--date <yyyymmdd>' argument '20261340' is invalid\. expected a date as YYYYMMDD/,
      ],
      ['a manifest that does not exist', ['start', 'nightly', '-c', missing], /^relflow: .*no-such\.yaml/],
      ['a device as the manifest', ['validate', '-c', '/dev/zero'], /^relflow: \/dev\/zero: not a regular file; expected a YAML manifest$/],
      ['a release ID with a path', ['status', '../../etc'], /^relflow: .*release ID/],
      ['an empty release ID', ['status', ''], /^relflow: .*release-id.*expected a release ID/],
      ['a gate that does not exist', ['approve', 'corpus-3.4', 'deploy', '--by', 'alice'], /^relflow: .*'deploy'/],
      [
        'an approval by nobody',
        ['approve', 'corpus-3.4', 'pypi', '--by', ''],
        /^relflow: option '--by <name>' argument '' is invalid\. expected a name/,
      ],
      [
        'a name with a newline (a forged line in the report)',
        ['approve', 'corpus-3.4', 'pypi', '--by', 'alice\napproved by: bob'],
        /^relflow: .*expected a name without control characters/,
      ],
      ['a name of 65 characters', ['approve', 'corpus-3.4', 'pypi', '--by', 'a'.repeat(65)], /^relflow: .*at most 64 characters/],
      [
        'a comment of 2,001 characters',
        ['reject', 'corpus-3.4', 'pypi', '--by', 'alice', '--comment', 'c'.repeat(2001)],
        /^relflow: .*at most 2000 characters/,
      ],
      ['a cancel of an unknown release', ['cancel', 'nobody-9.9'], /^relflow: no running release with ID 'nobody-9\.9'/],
      ['a retry by nobody', ['retry', 'corpus-3.4', '--by', ''], /^relflow: option '--by <name>' argument '' is invalid\. expected a name/],
      [
        'a cron that is not one',
        ['schedule', 'create', 'nightly', '--cron', 'every night', '-c', config],
        /^relflow: .*expected five cron fields/,
      ],
      [
        'a cron whose fields are out of range',
        ['schedule', 'create', 'nightly', '--cron', '99 99 * * *', '-c', config],
        /^relflow: .*minute '99': expected 0-59/,
      ],
      [
        'a nightly of the year 9999',
        ['plan', 'nightly', '--date', '99991231', '-c', config],
        /^relflow: .*argument '99991231' is invalid\. expected a day from \d{8} to \d{8}/,
      ],
      [
        'a time zone on Mars',
        ['schedule', 'create', 'nightly', '--cron', '0 2 * * *', '--timezone', 'Mars/Base', '-c', config],
        /^relflow: .*expected an IANA time zone/,
      ],
      [
        'a report into a missing directory',
        ['report', 'corpus-3.4', '-o', join(root, 'no', 'dir', 'r.md')],
        /^relflow: -o .*: directory .* does not exist$/,
      ],
      ['an unknown report format', ['report', 'corpus-3.4', '--format', 'pdf'], /^relflow: .*'pdf'.*markdown, html, json/],
      ['an unknown command', ['deploy'], /^relflow: .*deploy/],
    ];
    const failures: string[] = [];
    for (let index = 0; index < cases.length; index += 4) {
      await Promise.all(
        cases.slice(index, index + 4).map(async ([what, args, expected]) => {
          const result = await runCliAsync(args, env);
          counts.inputs += 1;
          try {
            assert.equal(result.status, 2, `exit ${result.status}`);
            oneLine(result.stderr, expected, what);
            counts.refusedBeforeSideEffect += 1;
          } catch (error) {
            failures.push(`${what}: ${(error as Error).message.split('\n')[0]}: ${result.stderr.trim()}`);
          }
        }),
      );
    }
    assert.deepEqual(failures, []);
    assert.equal(await outside(), before, 'nothing changed on the remotes, the bucket or the mirror');
  });

  it('raw signals and updates, as the Web UI or any SDK client sends them: refused, logged once, the release unharmed', async function () {
    const taskQueue = uniqueTaskQueue('corpus');
    const { activities, calls } = fakeActivities();
    const manifest = manifestOf({
      ...base,
      repositories: [{ name: 'core', url: remotes[0], pypi: true }],
      pypi: { repositoryUrl: 'http://pypi.invalid/' },
      gates: { pypi: { approvers: ['alice'], timeout: '1h', reminderEvery: '1h' }, docs: { enabled: false } },
    });
    const raw = (data: string, encoding = 'json/plain') => ({
      payloads: [{ metadata: { encoding: new TextEncoder().encode(encoding) }, data: new TextEncoder().encode(data) }],
    });
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `corpus-signals-${process.pid}-${Date.now()}`,
        args: [{ manifest, kind: 'ga', version: '3.4', buildTaskQueue: `${taskQueue}-builds` }],
      });
      const state = async () => handle.query(releaseStateQuery);
      for (const deadline = Date.now() + 60_000; !(await state()).gates.some((gate) => gate.status === 'open');) {
        assert.ok(Date.now() < deadline, 'the pypi gate opens');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const before = await outside();
      const signals: [string, string, ReturnType<typeof raw>, RegExp][] = [
        [
          'an undecodable encoding',
          'approve',
          raw('{}', 'foo/bar'),
          /^refused approve signal: the decision could not be decoded \(encoding foo\/bar\)/,
        ],
        ['JSON that does not parse', 'approve', raw('{"gate": '), /^refused approve signal: the decision could not be decoded/],
        ['a decision that is null', 'approve', raw('null'), /^refused approve signal: /],
        ['an unknown gate', 'approve', raw('{"gate": "deploy", "by": "alice"}'), /^refused approve signal: .*deploy/],
        [
          'a person who may not decide',
          'approve',
          raw('{"gate": "pypi", "by": "mallory"}'),
          /^refused approve signal: mallory may not decide gate pypi; approvers: alice$/,
        ],
        ['a decision without by', 'reject', raw('{"gate": "pypi"}'), /^refused reject signal: .*by/],
        [
          'a name with a line of its own',
          'approve',
          raw(JSON.stringify({ gate: 'pypi', by: 'alice\n2026-12-04T00:00:00Z alice: approved gate pypi' })),
          /^refused approve signal: by: a name without control characters$/,
        ],
        [
          'an operator with a terminal escape',
          'operator',
          raw(JSON.stringify({ action: 'abort', by: 'alice\u001b[2J' })),
          /^refused operator signal: by: a name without control characters$/,
        ],
        ['a by that is a number', 'approve', raw('{"gate": "pypi", "by": 42}'), /^refused approve signal: .*by/],
        ['a gate that is an object', 'reject', raw('{"gate": {"$ne": 1}, "by": "alice"}'), /^refused reject signal: .*gate/],
        [
          'a comment of 3,000 characters',
          'approve',
          raw(JSON.stringify({ gate: 'pypi', by: 'alice', comment: 'x'.repeat(3000) })),
          /^refused approve signal: comment: text of at most 2000 characters$/,
        ],
        [
          'an operator action that does not exist',
          'operator',
          raw('{"action": "destroy", "by": "alice"}'),
          /^refused operator signal: .*destroy/,
        ],
        [
          'a retry of a release that is not blocked',
          'operator',
          raw('{"action": "retry", "by": "alice"}'),
          /^refused operator signal: .*not blocked/,
        ],
      ];
      for (const [what, signalName, input] of signals) {
        await testClient().workflowService.signalWorkflowExecution({
          namespace: 'default',
          workflowExecution: { workflowId: handle.workflowId },
          signalName,
          input,
          identity: 'corpus',
        });
        counts.inputs += 1;
        void what;
      }
      // The same refused signal again is logged once.
      await handle.signal(approveSignal, { gate: 'pypi', by: 'mallory' });
      // [what, the update, its one-line error, the line the release's log keeps for it (none for a malformed one)].
      const updates: [string, () => Promise<unknown>, RegExp, RegExp?][] = [
        [
          'an approval of a gate that is not open',
          () => decideGate(testClient(), handle.workflowId, { gate: 'docs', by: 'alice' }, true),
          /refused: .*docs/,
          /^refused approve update: gate docs is not open \(the release is at stage pypi\)$/,
        ],
        [
          'an approval by 65 characters',
          () => decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'a'.repeat(65) }, true),
          /refused: by: at most 64 characters/,
        ],
        [
          'an approval by a name with a carriage return',
          () => decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice\rbob' }, true),
          /refused: by: a name without control characters/,
          /^refused approve update: by: a name without control characters$/,
        ],
        [
          'a rejection with a 1.2 MB comment',
          () => decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'alice', comment: 'y'.repeat(1_200_000) }, false),
          /refused: comment: text of at most 2000 characters/,
        ],
        [
          'an approval by someone else',
          () => decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'mallory' }, true),
          /refused: mallory may not decide gate pypi/,
          /^refused approve update: mallory may not decide gate pypi; approvers: alice$/,
        ],
        [
          'the same approval again',
          () => decideGate(testClient(), handle.workflowId, { gate: 'pypi', by: 'mallory' }, true),
          /refused: mallory may not decide gate pypi/,
        ],
        [
          'a skip of a release that is not blocked',
          () => operateRelease(testClient(), handle.workflowId, { action: 'skip', by: 'alice' }),
          /refused: release .* is not blocked/,
          /^refused operator update: release .* is not blocked/,
        ],
        ['an abort by nobody', () => operateRelease(testClient(), handle.workflowId, { action: 'abort', by: '' }), /refused: say who acts/],
      ];
      for (const [what, send, expected] of updates) {
        await assert.rejects(send(), (error: Error) => {
          oneLine(errorMessage(error), expected, what);
          return true;
        });
        counts.inputs += 1;
        counts.refusedBeforeSideEffect += 1;
      }
      const after = await state();
      assert.equal(after.status, 'waiting', 'the release still waits at its gate');
      assert.equal(after.gates.find((gate) => gate.name === 'pypi')?.status, 'open');
      assert.equal(calls.publishPythonPackage, undefined, 'nothing was published');
      const refusals = after.log.filter((entry) => entry.action.startsWith('refused ')).map((entry) => entry.action);
      const loggedUpdates = updates.filter(([, , , logged]) => logged);
      assert.equal(
        refusals.length,
        signals.length + loggedUpdates.length,
        `one log line per refused signal, and per attempted decision:\n${refusals.join('\n')}`,
      );
      assert.deepEqual(
        refusals.slice(signals.length).map((line, index) => (loggedUpdates[index][3] as RegExp).test(line)),
        loggedUpdates.map(() => true),
        `the attempted decisions, in order:\n${refusals.slice(signals.length).join('\n')}`,
      );
      assert.ok(
        after.log.every((entry) => !CONTROL_CHARACTERS.test(entry.by)),
        'no refused name brings a control character into the log',
      );
      signals.forEach(([what, , , expected], index) => {
        oneLine(refusals[index], expected, what);
        counts.refusedBeforeSideEffect += 1;
      });
      assert.equal(await outside(), before, 'nothing changed on the remotes, the bucket or the mirror');
      await handle.terminate('corpus done');
    });
  });

  it('releases started directly by any client, skipping the CLI: refused at plan by the workflow itself, before any activity', async function () {
    const taskQueue = uniqueTaskQueue('corpus-direct');
    const worker = await createTestWorker({ taskQueue, env: { ...process.env, ...env } });
    const manifest = manifestOf(base);
    const before = await outside();
    const cases: [string, string, unknown, RegExp][] = [
      [
        'a release ID with ..',
        '../../escape',
        { manifest, kind: 'nightly', date: '20261124' },
        /release ID '\.\.\/\.\.\/escape': expected letters/,
      ],
      ['no request at all', 'corpus-direct-1', undefined, /the release request must be an object/],
      [
        'a kind that does not exist',
        'corpus-direct-2',
        { manifest, kind: 'weekly' },
        /kind: expected one of nightly, milestone, ga, patch/,
      ],
      [
        'an artifact name with ..',
        'corpus-direct-3',
        {
          manifest: {
            ...manifest,
            artifacts: [{ name: '../../x', repository: 'core', builder: 'local', command: 'true', outputs: ['x'], timeout: '1h' }],
          },
          kind: 'nightly',
        },
        /artifacts\[0\]\.name: /,
      ],
      [
        'a repository URL that is an option',
        'corpus-direct-4',
        {
          manifest: { ...manifest, repositories: [{ ...manifest.repositories[0], url: '--upload-pack=touch /tmp/pwned' }] },
          kind: 'nightly',
        },
        /repositories\[0\]\.url: /,
      ],
      [
        'a bucket that is a path',
        'corpus-direct-5',
        { manifest: { ...manifest, storage: { ...manifest.storage, bucket: '../../x' } }, kind: 'nightly' },
        /storage\.bucket: /,
      ],
      ['a GA version that is not one', 'corpus-direct-6', { manifest, kind: 'ga', version: '3.4; rm -rf /' }, /3\.4; rm -rf/],
      ['a manifest that is a string', 'corpus-direct-7', { manifest: 'product: x', kind: 'nightly' }, /manifest/],
      ['a nightly date that is no day', 'corpus-direct-8', { manifest, kind: 'nightly', date: '20261340' }, /date/],
    ];
    await worker.runUntil(async () => {
      for (const [what, id, request, expected] of cases) {
        const workflowId = `${id === '../../escape' ? id : `${id}-${process.pid}-${Date.now()}`}`;
        const handle = await testClient().workflow.start(releaseWorkflow, { taskQueue, workflowId, args: [request as never] });
        await assert.rejects(handle.result(), (error: unknown) => {
          assert.ok(error instanceof WorkflowFailedError, `${what}: ${String(error)}`);
          oneLine(errorMessage(error), expected, what);
          return true;
        });
        const history = await handle.fetchHistory();
        assert.equal(history.events?.filter((event) => event.activityTaskScheduledEventAttributes).length, 0, `${what}: no activity ran`);
        counts.inputs += 1;
        counts.refusedBeforeSideEffect += 1;
      }
    });
    assert.equal(await outside(), before, 'nothing changed on the remotes, the bucket or the mirror');
  });
});
