import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest, ManifestError, parseManifest } from '../../src/config/loadManifest';
import { projectRoot } from '../../src/worker/tools';
import { createRemote } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { RULE_TEMPLATE_NAMES } from '../../src/config/manifest';
import { buildReleasePlan, repositoryTemplateValues } from '../../src/release/plan';
import { ruleValues } from '../../src/release/versionRules';
import { runCli } from '../support/cli';
import { tempDir } from '../support/temporal';

function problems(text: string): string[] {
  try {
    parseManifest(text, 'relflow.yaml');
  } catch (error) {
    assert.ok(error instanceof ManifestError, String(error));
    return error.message.split('\n');
  }
  assert.fail('expected the manifest to be refused');
}

describe('the release manifest', function () {
  it('relflow.example.yaml validates', function () {
    const manifest = loadManifest(join(projectRoot, 'relflow.example.yaml'));
    assert.equal(manifest.product, 'cloudify');
    assert.equal(manifest.repositories.length, 6);
    assert.deepEqual(manifest.versionRules[0], { preset: 'cloudify', required: false });
    const result = runCli(['validate', '-c', join(projectRoot, 'relflow.example.yaml')]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /valid \(6 repositories, 3 artifacts\)/);
  });

  it('names the file, the path inside it and what was expected, for every problem at once', function () {
    const found = problems(`
product: cloudify
versions: { core: "3", plugins: "1.5" }
repositories:
  - { name: a, url: /srv/a.git }
  - { name: b, url: /srv/b.git }
  - { name: c, url: /srv/c.git }
  - { name: d, ulr: /srv/d.git }
  - { name: a, url: /srv/e.git, stream: plugin }
artifacts:
  - { name: ui, repository: nope, command: make, outputs: [x.tgz] }
gates: { pypi: { timeout: soon } }
`);
    assert.deepEqual(found, [
      'relflow.yaml: versions.core: X.Y, the core version in development (e.g. 3.5)',
      'relflow.yaml: repositories[3].url: required, expected string',
      "relflow.yaml: repositories[3]: unknown field 'ulr'",
      "relflow.yaml: repositories[4].stream: expected one of 'core', 'plugins', got 'plugin'",
      'relflow.yaml: gates.pypi.timeout: a duration such as 90s, 30m, 12h or 3d',
    ]);
  });

  it('checks what spans fields: duplicate names, unknown repositories, missing sections', function () {
    const found = problems(`
product: cloudify
versions: { core: "3.5", plugins: "1.5" }
repositories:
  - { name: a, url: /srv/a.git, pypi: true }
  - { name: a, url: /srv/b.git }
artifacts:
  - { name: ui, repository: nope, builder: ec2, command: make, outputs: [x.tgz] }
`);
    assert.deepEqual(found, [
      "relflow.yaml: repositories[1].name: 'a' is already the name of repositories[0]",
      "relflow.yaml: artifacts[0].repository: 'nope' is not a repository of this manifest; expected one of a",
      'relflow.yaml: artifacts[0].ec2: required with builder ec2 (imageId, instanceType)',
      'relflow.yaml: storage: required when the manifest has artifacts (where they are uploaded)',
      'relflow.yaml: pypi: required when a repository is published to PyPI (repositoryUrl)',
    ]);
  });

  it('says where the size limit is: at most 2000 repositories', function () {
    const repositories = (count: number) =>
      Array.from({ length: count }, (_, index) => `  - { name: r${index}, url: /srv/r${index}.git }`).join('\n');
    const manifest = (count: number) => `product: big\nversions: { core: "3.5", plugins: "1.5" }\nrepositories:\n${repositories(count)}\n`;
    assert.equal(parseManifest(manifest(2000), 'relflow.yaml').repositories.length, 2000);
    const found = problems(manifest(2001));
    assert.equal(found.length, 1);
    assert.match(
      found[0],
      /^relflow\.yaml: repositories: at most 2000 repositories in one release: .*2 MB payload limit.*several manifests$/,
    );
  });

  it('a custom version rule with an invalid regular expression or an unknown template value is refused by validate', function () {
    const rules = (rule: string) =>
      `product: p\nversions: { core: "3.5", plugins: "1.5" }\nrepositories: [{ name: a, url: /srv/a.git }]\nversionRules:\n  - ${rule}\n`;
    assert.deepEqual(problems(rules("{ type: 'setup\\.py', match: 'version=(', replace: 'x', with: 'y' }")), [
      'relflow.yaml: versionRules[0].match: invalid regular expression: Invalid regular expression: /version=(/: Unterminated group',
    ]);
    assert.match(
      problems(rules("{ type: 'setup\\.py', match: 'v', replace: 'v', with: '{{ .nope }}' }"))[0],
      /^relflow\.yaml: versionRules\[0\]\.with: unknown template value \{\{ nope \}\}; known values: product, kind, /,
    );
    // A rule in the old version tool's shape, without 'type', is told what 'type' is.
    assert.deepEqual(problems(rules("{ match: 'version=.*', replace: '[0-9.]+', with: '{{ .python_core_version }}' }")), [
      "relflow.yaml: versionRules[0].type: a rule needs 'type' (a regular expression over file names), e.g. type: ^setup\\.py$",
    ]);
    assert.deepEqual(problems(rules("{ type: 'setup\\.py', match: '', replace: 'x', with: 'y' }")), [
      "relflow.yaml: versionRules[0].match: a rule needs 'match' (a regular expression that finds the spot), e.g. match: version='[^']*'",
    ]);
    // The names a rule may use are the values the release gives it.
    const manifest = parseManifest(rules('{ preset: setup.py }'), 'relflow.yaml');
    const plan = buildReleasePlan(manifest, { kind: 'nightly', date: '20261124' });
    assert.deepEqual(
      [...RULE_TEMPLATE_NAMES].sort(),
      Object.keys(ruleValues(repositoryTemplateValues(plan, manifest, plan.repositories[0]))).sort(),
    );
  });

  it('{{ build }} in a rule needs storage, where the build counter is kept', function () {
    const text = [
      'product: cloudify',
      'versions: { core: "3.5", plugins: "1.5" }',
      'repositories:',
      '  - name: cloudify-manager',
      '    url: /srv/manager.git',
      '    versionRules:',
      '      - { type: "^VERSION$", match: "build: .*", replace: "(?<=: ).*", with: "{{ build }}" }',
    ].join('\n');
    assert.deepEqual(problems(text), [
      'relflow.yaml: repositories[0].versionRules[0]: {{ build }} needs storage: the build counter is kept in the release bucket (.relflow/build-numbers/<product>.json)',
    ]);
  });

  it('refuses YAML that does not parse, and a document that is not a mapping', function () {
    assert.match(problems('product: [unclosed\n')[0], /^relflow\.yaml: invalid YAML: /);
    assert.deepEqual(problems('- a\n- b\n'), ['relflow.yaml: expected a YAML mapping with product, versions and repositories']);
  });

  it('`relflow validate` prints every problem and exits 2', function () {
    const dir = tempDir('validate');
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'product: "bad name"\nversions: { core: "3.5", plugins: "1.5" }\nrepositories: []\n');
    const result = runCli(['validate', '-c', file]);
    assert.equal(result.status, 2);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      `relflow: ${file}: product: a name of letters, digits, ".", "_" or "-" (e.g. cloudify-rest-client)`,
      `${file}: repositories: at least one repository`,
    ]);
  });

  it('`relflow validate` and `relflow plan` refuse a rule that changes its own output, naming it and both passes, before reading a repository', function () {
    const dir = tempDir('validate-rules');
    const file = writeManifest(dir, {
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'cloudify-rest-client', url: join(dir, 'no-such-remote.git') }],
      versionRules: [
        { preset: 'cloudify' },
        { description: 'greedy', type: '^setup\\.py$', match: "version='[^']*'", replace: '\\d+\\.\\d+', with: '{{ python_version }}' },
      ],
    });
    const expected = [
      `relflow: ${file}: versionRules[1] (greedy): not idempotent for a nightly (3.5dev20261124, in cloudify-rest-client): ` +
        "'version='3.3',' becomes 'version='3.5.dev20261124',' in the first pass and 'version='3.5.dev20261124.dev20261124',' in a second; " +
        "anchor the rule's match so it does not match its own output",
    ];
    for (const args of [['validate'], ['plan', 'milestone', '--version', '3.5m1']]) {
      const result = runCli([...args, '-c', file]);
      assert.equal(result.status, 2, args.join(' '));
      assert.deepEqual(result.stderr.trim().split('\n'), expected, args.join(' '));
    }
  });

  it('`relflow schema` writes a JSON Schema that describes the fields', function () {
    const dir = tempDir('schema');
    const result = runCli(['schema', '-o', join(dir, 'schema.json')]);
    assert.equal(result.status, 0, result.stderr);
    const schema = JSON.parse(readFileSync(join(dir, 'schema.json'), 'utf8'));
    const root = schema.definitions.RelflowManifest;
    assert.deepEqual(root.required.sort(), ['product', 'repositories', 'versions']);
    assert.equal(root.additionalProperties, false);
    assert.ok(root.properties.repositories.items.properties.url);
    assert.ok(root.properties.storage.properties.layout.description);
  });

  it('`relflow plan` shows names and diffs from real repositories and writes nothing', function () {
    const root = tempDir('plan');
    const rest = createRemote(root, {
      name: 'cloudify-rest-client',
      files: { 'setup.py': "setup(name='rest', version='3.3')\n", 'docs/conf.py': "version = '3.3'\nrelease = '3.3'\n" },
    });
    const plugin = createRemote(root, {
      name: 'cloudify-script-plugin',
      files: { 'plugin.yaml': "plugins:\n  script:\n    package_version: '1.3'\n" },
    });
    const config = writeManifest(root, {
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'cloudify-rest-client', url: rest },
        { name: 'cloudify-script-plugin', url: plugin, stream: 'plugins' },
      ],
      versionRules: [{ preset: 'setup.py' }, { preset: 'sphinx-conf.py' }, { preset: 'plugin.yaml' }],
      ci: { provider: 'github', owner: 'cloudify-cosmo', tokenEnv: 'GITHUB_TOKEN' },
    });
    const refsBefore = [rest, plugin].map((remote) => readFileSync(join(remote, 'packed-refs'), 'utf8'));
    const result = runCli(['plan', 'milestone', '--version', '3.4m5', '-c', config]);
    assert.equal(result.status, 0, result.stderr);
    const text = result.stdout;
    assert.match(text, /cloudify milestone release 3\.4m5 \(ID cloudify-3\.4m5\)/);
    assert.match(text, /base master -> build branch 3\.4m5-build, tag 3\.4m5\n {2}version 3\.4m5, Python 3\.4a5\n {2}2 file\(s\) change:/);
    assert.match(text, /-setup\(name='rest', version='3\.3'\)\n\s+\+setup\(name='rest', version='3\.4a5'\)/);
    assert.match(text, /\+release = '3\.4m5'/);
    assert.match(text, /base master -> build branch 3\.4m5-build, tag 1\.5m5\n {2}version 1\.5m5, Python 1\.5a5/);
    assert.match(text, /\+ {4}package_version: '1\.5m5'/);
    // It says what it checked, and what only the worker can.
    const [, here, worker] =
      /\nchecked here:\n((?: {2}.*\n)+)checked only by the preflight on the worker[^\n]*\n((?: {2}.*\n?)+)$/.exec(text) ?? [];
    assert.match(here, /the version rules: valid, required ones match, idempotent/);
    assert.deepEqual(
      worker
        .trim()
        .split('\n')
        .map((line) => line.trim()),
      [
        "secrets in the worker's secrets file, allowed where they go: GITHUB_TOKEN (ci.tokenEnv)",
        'tools on the worker: git',
        'every remote answers the worker with its credentials; no release tag is at another commit',
        'the GitHub API answers for 2 repositories of cloudify-cosmo',
      ],
    );
    assert.deepEqual(
      [rest, plugin].map((remote) => readFileSync(join(remote, 'packed-refs'), 'utf8')),
      refsBefore,
      'no ref changed on the remotes',
    );
    const patch = runCli(['plan', 'patch', '--version', '3.4.1', '-c', config]);
    assert.equal(patch.status, 2);
    const problems = patch.stderr.trim().split('\n');
    assert.equal(problems.length, 2, patch.stderr);
    assert.match(problems[0], /^relflow: repositories\[0\] \(cloudify-rest-client\): cannot read branch '3\.4-patch1' of /);
    assert.match(problems[1], /^repositories\[1\] \(cloudify-script-plugin\): cannot read branch '3\.4-patch1' of /);
  });
});
