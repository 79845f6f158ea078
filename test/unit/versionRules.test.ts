import { strict as assert } from 'node:assert';
import { ManifestInput, VERSION_PRESETS, VersionPreset } from '../../src/config/manifest';
import { ruleIdempotenceProblems } from '../../src/release/ruleCheck';
import { buildReleasePlan, repositoryTemplateValues } from '../../src/release/plan';
import { isVersionOrRef } from '../../src/release/version';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/worker/tools';
import { CLOUDIFY_PRESETS, concreteRules, PRESETS, presetTableRow, RuleExample, repositoryRules } from '../../src/release/versionRules';
import { applyVersionRules, decodeSource, encodeSource, shortDiff, SourceFile } from '../../src/release/versionRewrite';
import { manifestOf } from '../support/manifests';

const product: ManifestInput = {
  product: 'cloudify',
  versions: { core: '3.5', plugins: '1.5' },
  repositories: [
    { name: 'cloudify-rest-client', url: '/srv/rest.git' },
    { name: 'cloudify-script-plugin', url: '/srv/script.git', stream: 'plugins' },
  ],
  storage: { bucket: 'gigaspaces-repository-eu', publicUrl: 'http://repository.cloudifysource.org' },
};
const manifest = manifestOf(product);
// Build 275, as the release's number once it starts (plan shows 0).
const plan = { ...buildReleasePlan(manifest, { kind: 'milestone', version: '3.4m5' }), build: 275 };
const coreValues = repositoryTemplateValues(plan, manifest, plan.repositories[0]);
const pluginValues = repositoryTemplateValues(plan, manifest, plan.repositories[1]);

function run(preset: VersionPreset, files: SourceFile[], values = coreValues, repository = 'cloudify-rest-client') {
  return applyVersionRules(repository, files, concreteRules([{ preset, required: false }]), values).changes;
}

describe('the version tool (presets over real-world file shapes)', function () {
  const cases: { preset: VersionPreset; path: string; before: string; after: string; plugins?: boolean }[] = [
    {
      preset: 'setup.py',
      path: 'setup.py',
      before:
        "from setuptools import setup\n\nsetup(\n    name='cloudify-rest-client',\n    version='3.3',\n    packages=['cloudify_rest_client'],\n)\n",
      after:
        "from setuptools import setup\n\nsetup(\n    name='cloudify-rest-client',\n    version='3.4a5',\n    packages=['cloudify_rest_client'],\n)\n",
    },
    {
      preset: 'setup.py',
      path: 'setup.py',
      before: 'setup(name="cloudify-script-plugin", version="1.3", install_requires=["cloudify-plugins-common==3.3"])\n',
      after: 'setup(name="cloudify-script-plugin", version="1.5a5", install_requires=["cloudify-plugins-common==3.3"])\n',
      plugins: true,
    },
    {
      preset: 'pyproject.toml',
      path: 'pyproject.toml',
      before: '[project]\nname = "cloudify-cli"\nversion = "3.3"\n\n[tool.black]\ntarget-version = "py38"\n',
      after: '[project]\nname = "cloudify-cli"\nversion = "3.4a5"\n\n[tool.black]\ntarget-version = "py38"\n',
    },
    {
      preset: '__version__',
      path: 'cloudify_cli/__init__.py',
      before: "__version__ = '3.3'\n__author__ = 'Gigaspaces'\n",
      after: "__version__ = '3.4a5'\n__author__ = 'Gigaspaces'\n",
    },
    {
      preset: 'package.json',
      path: 'package.json',
      before: '{\n  "name": "cloudify-ui",\n  "version": "3.3.0",\n  "dependencies": {\n    "lodash": { "version": "4.0.0" }\n  }\n}\n',
      after: '{\n  "name": "cloudify-ui",\n  "version": "3.4.0-m5",\n  "dependencies": {\n    "lodash": { "version": "4.0.0" }\n  }\n}\n',
    },
    {
      preset: 'plugin.yaml',
      path: 'plugin.yaml',
      before:
        "plugins:\n  script:\n    executor: central_deployment_agent\n    package_name: cloudify-script-plugin\n    package_version: '1.3'\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.3.zip\n    install_arguments: '-r https://github.com/x/y/archive/1.3.zip'\n",
      after:
        "plugins:\n  script:\n    executor: central_deployment_agent\n    package_name: cloudify-script-plugin\n    package_version: '1.5m5'\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.5m5.zip\n    install_arguments: '-r https://github.com/x/y/archive/1.3.zip'\n",
      plugins: true,
    },
    {
      preset: 'types.yaml',
      path: 'resources/rest-service/cloudify/types/blueprint.yaml',
      before:
        'imports:\n  - http://www.getcloudify.org/spec/cloudify/3.3/types.yaml\n  - http://www.getcloudify.org/spec/fabric-plugin/1.3/plugin.yaml\n',
      after:
        'imports:\n  - http://www.getcloudify.org/spec/cloudify/3.4m5/types.yaml\n  - http://www.getcloudify.org/spec/fabric-plugin/1.5m5/plugin.yaml\n',
    },
    {
      preset: 'sphinx-conf.py',
      path: 'docs/conf.py',
      before: "project = u'cloudify-rest-client'\n# The short X.Y version.\nversion = '3.3'\n# The full version.\nrelease = '3.3'\n",
      after: "project = u'cloudify-rest-client'\n# The short X.Y version.\nversion = '3.4'\n# The full version.\nrelease = '3.4m5'\n",
    },
    {
      preset: 'blueprint',
      path: 'aws-ec2-manager-blueprint.yaml',
      before:
        "inputs:\n  ui_package_url:\n    default: http://repository.cloudifysource.org/org/cloudify3/3.3.0/m4-RELEASE/cloudify-ui_3.3.0-m4-b274_amd64.deb\n  rest_service_package_url: 'http://repository.cloudifysource.org/org/cloudify3/3.3.0/m4-RELEASE/cloudify-rest-service-3.3.0-m4-b274.tgz'\n  other_url: http://example.com/keep/this.tgz\n",
      after:
        "inputs:\n  ui_package_url:\n    default: http://repository.cloudifysource.org/org/cloudify/3.4.0/m5-RELEASE/cloudify-ui_3.4.0-m5-b275_amd64.deb\n  rest_service_package_url: 'http://repository.cloudifysource.org/org/cloudify/3.4.0/m5-RELEASE/cloudify-rest-service-3.4.0-m5-b275.tgz'\n  other_url: http://example.com/keep/this.tgz\n",
    },
  ];
  for (const testCase of cases) {
    it(`${testCase.preset}: ${testCase.path}${testCase.plugins ? ' (plugins stream)' : ''}`, function () {
      const values = testCase.plugins ? pluginValues : coreValues;
      const repository = testCase.plugins ? 'cloudify-script-plugin' : 'cloudify-rest-client';
      const changes = run(testCase.preset, [{ path: testCase.path, content: testCase.before }], values, repository);
      assert.equal(changes.length, 1);
      assert.equal(changes[0].after, testCase.after);
      const again = run(testCase.preset, [{ path: testCase.path, content: changes[0].after }], values, repository);
      assert.deepEqual(again, [], 'a second run changes nothing');
    });
  }

  it("plugin.yaml's source takes the holding repository's ref only when it is that repository's archive", function () {
    // A core repository's plugin.yaml that points at a plugin: the plugin.yaml preset alone (the default) leaves its source.
    const held = (source: string) =>
      `plugins:\n  fabric:\n    package_version: '1.2'\n    source: https://github.com/cloudify-cosmo/${source}.zip\n`;
    const [manager] = run('plugin.yaml', [{ path: 'plugins/fabric/plugin.yaml', content: held('cloudify-fabric-plugin/archive/master') }]);
    assert.equal(manager.after, held('cloudify-fabric-plugin/archive/master').replace("'1.2'", "'1.5m5'"));
    // The repository's own archive, named as its URL spells it (/srv/script.git) or as the manifest does.
    for (const name of ['script', 'cloudify-script-plugin']) {
      const [own] = run(
        'plugin.yaml',
        [{ path: 'plugin.yaml', content: held(`${name}/archive/1.2`) }],
        pluginValues,
        'cloudify-script-plugin',
      );
      assert.equal(own.after, held(`${name}/archive/1.5m5`).replace("'1.2'", "'1.5m5'"));
    }
    // preset: cloudify gives the plugin's archive the plugins stream's ref, in any repository.
    const product = manifestOf({
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'cloudify-manager', url: '/srv/cloudify-manager.git' },
        { name: 'cloudify-fabric-plugin', url: '/srv/cloudify-fabric-plugin.git', stream: 'plugins' },
      ],
    });
    const productPlan = buildReleasePlan(product, { kind: 'milestone', version: '3.4m5' });
    const [cloudify] = applyVersionRules(
      'cloudify-manager',
      [{ path: 'plugins/fabric/plugin.yaml', content: held('cloudify-fabric-plugin/archive/master') }],
      concreteRules([{ preset: 'cloudify', required: false }]),
      repositoryTemplateValues(productPlan, product, productPlan.repositories[0]),
    ).changes;
    assert.equal(cloudify.after, held('cloudify-fabric-plugin/archive/1.5m5').replace("'1.2'", "'1.5m5'"));
  });

  it('points a blueprint URL at this release only when it is under the storage URL', function () {
    const changes = run('blueprint', [
      { path: 'blueprint.yaml', content: 'x_package_url: http://repository.cloudifysource.org/a/b.tgz\n' },
    ]);
    assert.equal(changes[0].after, 'x_package_url: http://repository.cloudifysource.org/org/cloudify/3.4.0/m5-RELEASE/b.tgz\n');
  });

  it('refuses when a required rule matches nothing, naming the repository and the rule', function () {
    assert.throws(
      () =>
        applyVersionRules(
          'cloudify-rest-client',
          [{ path: 'README.md', content: 'hi' }],
          concreteRules([{ preset: 'setup.py', required: true }]),
          coreValues,
        ),
      /cloudify-rest-client: required rule versionRules\[0\] \(setup\.py version\) matched nothing/,
    );
  });

  it('a required-rule error names the rule as the manifest wrote it, not its place among the expanded preset rules', function () {
    const rules = concreteRules([
      { preset: 'blueprint', required: false },
      { preset: 'types.yaml', required: false },
      { preset: 'sphinx-conf.py', required: false },
      { preset: 'setup.py', required: true },
    ]);
    assert.equal(rules.length, 9, 'presets expand to several rules');
    assert.throws(
      () => applyVersionRules('cloudify-rest-client', [{ path: 'README.md', content: 'hi' }], rules, coreValues),
      /cloudify-rest-client: required rule versionRules\[3\] \(setup\.py version\) matched nothing/,
    );
    const own = repositoryRules(
      manifestOf({
        ...manifest,
        repositories: [
          { name: 'x', url: '/srv/x.git' },
          { name: 'y', url: '/srv/y.git', versionRules: [{ preset: 'VERSION' }, { preset: 'setup.py', required: true }] },
        ],
      }),
      'y',
    );
    assert.throws(
      () => applyVersionRules('y', [], own, coreValues),
      /required rule repositories\[1\]\.versionRules\[1\] \(setup\.py version\)/,
    );
  });

  it('refuses a rewrite that leaves YAML that no longer parses', function () {
    const rules = concreteRules([
      {
        description: 'bad',
        type: '\\.yaml$',
        path: '.*',
        excluded: [],
        match: 'version: \\S+',
        replace: '\\S+$',
        with: '[{{ yaml_version }}',
        required: false,
      },
    ]);
    assert.throws(
      () => applyVersionRules('x', [{ path: 'a.yaml', content: 'version: 1\n' }], rules, coreValues),
      /^UserError: x: a\.yaml:2: no longer parses after the version rewrite \(bad\): /,
    );
  });

  it('refuses rules that are not idempotent: a retry would run them over their own output', function () {
    const greedy = concreteRules([
      {
        path: '.*',
        type: '^setup\\.py$',
        excluded: [],
        description: 'greedy',
        match: "version='[^']*'",
        replace: '\\d+\\.\\d+',
        with: '{{ python_version }}.1',
        required: true,
      },
    ]);
    assert.throws(
      () => applyVersionRules('x', [{ path: 'setup.py', content: "version='3.3'" }], greedy, coreValues),
      /^UserError: x: version rules are not idempotent: setup\.py:1 \(greedy\): 'version='3\.3'' becomes 'version='3\.4a5\.1'' in the first pass and 'version='3\.4a5\.1a3\.4a5\.1'' in a second; anchor the rule's match/,
    );
    // A required rule that only matches the old text would fail on a retry: refused now.
    const onlyOld = concreteRules([
      {
        path: '.*',
        type: '^setup\\.py$',
        excluded: [],
        description: 'old',
        match: "version='3\\.3'",
        replace: "'.*'",
        with: "'{{ python_version }}'",
        replaces: 'text',
        required: true,
      },
    ]);
    assert.throws(
      () => applyVersionRules('x', [{ path: 'setup.py', content: "version='3.3'" }], onlyOld, coreValues),
      /x: version rules are not idempotent: over their own output, x: required rule .* matched nothing/,
    );
    // Every preset is idempotent.
    const presets = concreteRules([
      { preset: 'setup.py', required: true },
      { preset: 'plugin.yaml', required: false },
    ]);
    assert.equal(applyVersionRules('x', [{ path: 'setup.py', content: "setup(version='3.3')" }], presets, coreValues).changes.length, 1);
  });

  it('refuses a Python rule whose value is not PEP 440', function () {
    const rules = concreteRules([{ preset: 'setup.py', required: false }]);
    assert.throws(
      () => applyVersionRules('x', [{ path: 'setup.py', content: "version='1'" }], rules, { ...coreValues, python_version: '3.4m5' }),
      /'3\.4m5' is not a PEP 440 version/,
    );
  });

  it('reads bytes that are not UTF-8 as latin-1 and refuses to write a character latin-1 has no byte for', function () {
    const bytes = Buffer.from("# Auteur: Ren\xe9\nVERSION = '3.3'\n", 'latin1');
    const file = { path: 'version_info.py', ...decodeSource(bytes) };
    assert.equal(file.encoding, 'latin1');
    assert.equal(decodeSource(Buffer.from('caf\u00e9', 'utf8')).encoding, 'utf8');
    const rule = (text: string) =>
      concreteRules([
        {
          description: 'VERSION',
          type: '\\.py$',
          path: '.*',
          excluded: [],
          match: "VERSION = '[^']*'",
          replace: "(?<=')[^']+(?=')",
          with: text,
          required: true,
        },
      ]);
    const [change] = applyVersionRules('x', [file], rule('{{ yaml_version }}'), coreValues).changes;
    assert.deepEqual(encodeSource(change), Buffer.from("# Auteur: Ren\xe9\nVERSION = '3.4m5'\n", 'latin1'));
    assert.throws(
      () => applyVersionRules('x', [file], rule('{{ yaml_version }} \u2013 beta'), coreValues),
      /^UserError: version_info\.py: the file is not UTF-8 \(read as latin-1\) and the version rewrite put '\u2013' in it, which latin-1 cannot hold$/,
    );
  });

  it('applies custom rules in the original tool shape, with path and excluded', function () {
    const rules = concreteRules([
      {
        description: 'plugins VERSION',
        type: '^VERSION$',
        path: 'cloudify-.*-plugin',
        excluded: ['old/VERSION'],
        match: 'v=.*',
        replace: '(?<=v=).*',
        with: '{{ .yaml_plugins_version }}',
        required: true,
      },
    ]);
    const files = [
      { path: 'VERSION', content: 'v=1.3\n' },
      { path: 'old/VERSION', content: 'v=0.1\n' },
    ];
    const { changes } = applyVersionRules('cloudify-script-plugin', files, rules, pluginValues);
    assert.deepEqual(
      changes.map((change) => [change.path, change.after]),
      [['VERSION', 'v=1.5m5\n']],
    );
    assert.deepEqual(
      applyVersionRules(
        'cloudify-rest-client',
        files,
        rules.map((rule) => ({ ...rule, required: false })),
        coreValues,
      ).changes,
      [],
    );
    assert.match(shortDiff(changes[0]), /^--- VERSION\n\+\+\+ VERSION\n-v=1\.3\n\+v=1\.5m5$/);
  });
});

describe('the preset rules do what docs/version-rules.md shows (milestone 3.3m4, plugins 1.3)', function () {
  const repositories = [
    'cloudify-manager',
    'cloudify-rest-client',
    'cloudify-ui',
    'cloudify-hello-world-example',
    'cloudify-manager-blueprints',
    'cloudify-system-tests',
    'cloudify-dsl-parser',
    'cloudify-plugins-common',
    'cloudify-script-plugin',
    'cloudify-diamond-plugin',
    'cloudify-packager',
  ];
  const shown = manifestOf({
    product: 'cloudify',
    versions: { core: '3.3', plugins: '1.3' },
    repositories: repositories.map((name) => ({ name, url: `/srv/${name}.git`, stream: name.endsWith('-plugin') ? 'plugins' : 'core' })),
    storage: {
      bucket: 'gigaspaces-repository-eu',
      publicUrl: 'http://repository.cloudifysource.org',
      formerPublicUrls: ['http://gigaspaces-repository-eu.s3.amazonaws.com'],
    },
  });
  // Build 274, as the release's number once it starts (plan shows 0).
  const shownPlan = { ...buildReleasePlan(shown, { kind: 'milestone', version: '3.3m4' }), build: 274 };
  // Prettier pads the table's columns.
  const readme = readFileSync(join(projectRoot, 'docs', 'version-rules.md'), 'utf8').replace(/ {2,}/g, ' ');

  for (const [preset, rules] of Object.entries(PRESETS)) {
    for (const rule of rules.filter((candidate) => candidate.example)) {
      const example = rule.example as RuleExample;
      it(`${preset}: ${rule.description}`, function () {
        const repository = shownPlan.repositories.find((candidate) => candidate.name === example.repository);
        assert.ok(repository, example.repository);
        const values = repositoryTemplateValues(shownPlan, shown, repository);
        // A JSON example line is shown alone; the rewritten file must still parse, so it is checked inside an object.
        const whole = (line: string) => (example.file.endsWith('.json') ? `{\n${line.replace(/,$/, '')}\n}\n` : `${line}\n`);
        const file = { path: example.file, content: whole(example.before) };
        const { changes } = applyVersionRules(
          example.repository,
          [file],
          concreteRules([{ preset: preset as VersionPreset, required: false }]),
          values,
        );
        assert.deepEqual(
          changes.map((change) => change.after),
          [whole(example.after)],
        );
        assert.ok(readme.includes(presetTableRow(preset, rule)), `docs/version-rules.md lists ${preset}: ${presetTableRow(preset, rule)}`);
      });
    }
  }

  it('the cloudify preset is the named presets together, and the table of docs/version-rules.md covers each of them', function () {
    const cloudify = concreteRules([{ preset: 'cloudify', required: false }]);
    assert.deepEqual(
      cloudify.map((rule) => rule.description),
      CLOUDIFY_PRESETS.flatMap((name) => PRESETS[name].map((rule) => rule.description)),
    );
    assert.ok(cloudify.every((rule) => rule.example === undefined && rule.origin === 'versionRules[0]'));
    for (const name of CLOUDIFY_PRESETS)
      assert.ok(
        PRESETS[name].some((rule) => rule.example),
        `${name} has an example`,
      );
  });
});

describe('every rule run over its own output, in every version form (validate, plan, preflight)', function () {
  it('no preset changes its own output, for a nightly, milestone, candidate, GA, patch or patch milestone', function () {
    const everything = manifestOf({ ...product, versionRules: VERSION_PRESETS.map((preset) => ({ preset })) });
    assert.deepEqual(ruleIdempotenceProblems(everything), []);
  });

  it('names a rule that is fine for a milestone but grows a nightly suffix, with both passes', function () {
    const nightlyOnly = manifestOf({
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'cloudify-manager', url: '/srv/manager.git' }],
      versionRules: [
        { preset: 'cloudify' },
        // Matches a version of two numbers and what follows up to the quote, but its replace stops at the first dot after the minor.
        {
          description: 'VERSION constant',
          type: '\\.py$',
          match: "VERSION = '[0-9.]+[a-z0-9]*",
          replace: '[0-9]+\\.[0-9]+[a-z0-9]*',
          with: '{{ python_version }}',
        },
      ],
    });
    assert.deepEqual(ruleIdempotenceProblems(nightlyOnly), [
      "versionRules[1] (VERSION constant): not idempotent for a nightly (3.5dev20261124, in cloudify-manager): 'VERSION = '3.2'' becomes " +
        "'VERSION = '3.5.dev20261124'' in the first pass and 'VERSION = '3.5.dev20261124.dev20261124'' in a second; " +
        "anchor the rule's match so it does not match its own output",
    ]);
  });
});

describe('rules rewrite only versions and refs: a constant or a placeholder is left, and said', function () {
  it('knows a version or a ref in the forms products write, and nothing else', function () {
    for (const text of [
      '3.2',
      '3.3a4',
      '3.3.0-m4',
      '3.3m4',
      '3.3.dev20261124',
      '3.3dev20261124',
      '3.3.0-dev20261124',
      '3.2rc',
      '3.3.0m7',
      '3.2.0-ga-b200',
      'v1.2.3',
      '1.3.1-build',
      '3.3-patch1',
      'master',
      'nightly-20261124',
      '1',
    ]) {
      assert.ok(isVersionOrRef(text), text);
    }
    for (const text of [
      'tosca_definitions_version',
      'CORE_TAG_NAME',
      '_',
      '{{ version }}',
      '',
      'cloudify_dsl_1_0',
      'latest',
      "'3.3'",
      '3.3,',
    ]) {
      assert.ok(!isVersionOrRef(text), text);
    }
  });

  it('leaves a parser constant named VERSION, a placeholder import and a placeholder branch, each named with its line and rule', function () {
    const files: SourceFile[] = [
      { path: 'dsl_parser/version.py', content: "VERSION = 'tosca_definitions_version'\n" },
      { path: 'cloudify_rest_client/version.py', content: "VERSION = '3.2'\n" },
      { path: 'manager-blueprint.yaml', content: 'imports:\n  - http://www.getcloudify.org/spec/cloudify/CORE_TAG_NAME/types.yaml\n' },
      { path: 'suites.yaml', content: 'variables:\n  core_branch: master\n  system_tests_branch: _\n' },
    ];
    const rules = concreteRules([{ preset: 'cloudify', required: false }]);
    const { changes, left } = applyVersionRules('cloudify-dsl-parser', files, rules, coreValues);
    assert.deepEqual(
      changes.map((change) => [change.path, change.after]),
      [
        ['cloudify_rest_client/version.py', "VERSION = '3.4a5'\n"],
        ['suites.yaml', 'variables:\n  core_branch: 3.4m5\n  system_tests_branch: _\n'],
      ],
    );
    assert.deepEqual(left, [
      "dsl_parser/version.py:1: VERSION = 'tosca_definitions_version': 'tosca_definitions_version' is not a version: left (version_info modules)",
      "manager-blueprint.yaml:2: http://www.getcloudify.org/spec/cloudify/CORE_TAG_NAME/types.yaml: 'CORE_TAG_NAME' is not a version: left (types.yaml import URLs)",
      "suites.yaml:3: system_tests_branch: _: '_' is not a version: left (system-test branch keys (core))",
    ]);
  });

  it('a custom rule with replaces: text replaces whatever its replace pattern matches', function () {
    const rule = (replaces?: 'text') =>
      concreteRules([
        {
          description: 'quoted',
          type: '^setup\\.py$',
          path: '.*',
          excluded: [],
          match: 'version=\\S+',
          replace: '(?<==)\\S+',
          with: "'{{ python_version }}'",
          required: false,
          ...(replaces ? { replaces } : {}),
        },
      ]);
    const files = [{ path: 'setup.py', content: "version='3.3'\n" }];
    assert.deepEqual(applyVersionRules('x', files, rule(), coreValues).changes, []);
    assert.equal(applyVersionRules('x', files, rule('text'), coreValues).changes[0]?.after, "version='3.4a5'\n");
  });
});

describe('rules for the kinds they serve (kinds, and excluded on a preset entry)', function () {
  const release = (kinds?: ('milestone' | 'ga' | 'patch')[]): ManifestInput => ({
    ...product,
    versionRules: [
      {
        description: 'old tool release rule',
        type: '^release\\.py$',
        match: "VERSION = '[^']*'",
        // Takes 3.5 out of 3.5.dev20261124, so a nightly would grow a second .dev: not nightly-safe.
        replace: '\\d+\\.\\d+(?:\\.\\d+)?(?:(?:a|rc)\\d+)?',
        with: '{{ python_version }}',
        ...(kinds ? { kinds } : {}),
      },
    ],
  });

  it('checks a rule idempotent only for the kinds it runs in, and runs it only there', function () {
    assert.match(ruleIdempotenceProblems(manifestOf(release())).join('\n'), /old tool release rule\): not idempotent for a nightly/);
    const scoped = manifestOf(release(['milestone', 'ga', 'patch']));
    assert.deepEqual(ruleIdempotenceProblems(scoped), []);
    const files = [{ path: 'packaging/release.py', content: "VERSION = '3.2'\n" }];
    const rewrite = (manifestInput: ManifestInput, kind: 'nightly' | 'milestone', version?: string) => {
      const scopedManifest = manifestOf(manifestInput);
      const releasePlan = buildReleasePlan(scopedManifest, { kind, version, date: '20261124' });
      const values = repositoryTemplateValues(releasePlan, scopedManifest, releasePlan.repositories[0]);
      return applyVersionRules('cloudify-rest-client', files, repositoryRules(scopedManifest, 'cloudify-rest-client'), values).changes;
    };
    assert.throws(() => rewrite(release(), 'nightly'), /packaging\/release\.py:1 \(old tool release rule\)/);
    assert.deepEqual(rewrite(release(['milestone', 'ga', 'patch']), 'nightly'), []);
    assert.deepEqual(
      rewrite(release(['milestone', 'ga', 'patch']), 'milestone', '3.5m2').map((change) => change.after),
      ["VERSION = '3.5a2'\n"],
    );
  });

  it('a preset entry leaves the paths it excludes, by path or by pattern', function () {
    const rules = concreteRules([{ preset: 'types.yaml', required: false, excluded: ['tests/resources/old/.*', 'docs/example.yaml'] }]);
    const imports = (version: string) => `imports:\n  - http://www.getcloudify.org/spec/cloudify/${version}/types.yaml\n`;
    const { changes } = applyVersionRules(
      'cloudify-manager',
      [
        { path: 'tests/resources/old/blueprint_3_1.yaml', content: imports('3.1') },
        { path: 'docs/example.yaml', content: imports('3.2') },
        { path: 'tests/resources/blueprint.yaml', content: imports('3.2') },
      ],
      rules,
      coreValues,
    );
    assert.deepEqual(
      changes.map((change) => change.path),
      ['tests/resources/blueprint.yaml'],
    );
  });

  it('refuses kinds that are no release kind, and an excluded pattern that is no regular expression', function () {
    assert.throws(
      () => manifestOf({ ...product, versionRules: [{ preset: 'setup.py', kinds: ['weekly' as 'ga'] }] }),
      /versionRules\.0\.kinds\.0|versionRules\[0\]\.kinds\[0\]/,
    );
    assert.throws(
      () => manifestOf({ ...product, versionRules: [{ preset: 'setup.py', excluded: ['tests/(unclosed'] }] }),
      /a path or a regular expression over the path/,
    );
  });
});
