import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CheckoutResult, createGitActivities } from '../../src/activities/git';
import { GitWorkspace } from '../../src/activities/gitWorkspace';
import { buildReleasePlan, repositoryTemplateValues } from '../../src/release/plan';
import { declaredPackages, siblingValues } from '../../src/release/siblings';
import { ReleaseKind } from '../../src/release/version';
import { repositoryRules } from '../../src/release/versionRules';
import { applyVersionRules } from '../../src/release/versionRewrite';
import { runCli } from '../support/cli';
import {
  BEFORE,
  createProductRemotes,
  fileBytes,
  PRODUCT_REPOSITORIES,
  productFiles,
  ProductLines,
  productManifest,
  STORAGE_URL,
} from '../support/cloudifyProduct';
import { manifestOf, writeManifest } from '../support/manifests';
import type { ManifestInput } from '../../src/config/manifest';
import { tempDir } from '../support/temporal';

const author = { name: 'relflow', email: 'release@example.com' };
/** Cloudify's service-pack model: built on 3.3.1-build (plugins 1.3.1-build) and tagged 3.3.1 / 1.3.1. */
const TAGGED_PATCH: Partial<ManifestInput> = { naming: { branch: { patch: '{{ version }}-build' }, tag: { patch: '{{ version }}' } } };

const releases: [ReleaseKind, string | undefined, ProductLines, Partial<ManifestInput>?][] = [
  [
    'nightly',
    undefined,
    {
      py: '3.3.dev20261124',
      pluginsPy: '1.3.dev20261124',
      ref: 'nightly-20261124',
      pluginsRef: 'nightly-20261124',
      yaml: '3.3dev20261124',
      pluginsYaml: '1.3dev20261124',
      versionFile: '3.3.0-dev20261124',
      releaseUrl: `${STORAGE_URL}/org/cloudify/nightly/20261124/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify/nightly/20261124/`,
      packageFile: '3.3.0-dev-b274',
      released: '3.2',
      shell: { version: '3.2.0', prerelease: 'ga', build: '200', coreTag: '3.2', pluginsTag: '1.2' },
    },
  ],
  [
    'milestone',
    '3.3m4',
    {
      py: '3.3a4',
      pluginsPy: '1.3a4',
      ref: '3.3m4',
      pluginsRef: '1.3m4',
      yaml: '3.3m4',
      pluginsYaml: '1.3m4',
      versionFile: '3.3.0-m4',
      releaseUrl: `${STORAGE_URL}/org/cloudify3/3.3.0/m4-RELEASE/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify3/3.3.0/m4-RELEASE/`,
      packageFile: '3.3.0-m4-b274',
      released: '3.3a4',
      shell: { version: '3.3.0', prerelease: 'm4', build: '274', coreTag: '3.3m4', pluginsTag: '1.3m4' },
    },
  ],
  [
    'ga',
    '3.3',
    {
      py: '3.3',
      pluginsPy: '1.3',
      ref: '3.3',
      pluginsRef: '1.3',
      yaml: '3.3',
      pluginsYaml: '1.3',
      versionFile: '3.3.0',
      releaseUrl: `${STORAGE_URL}/org/cloudify3/3.3.0/ga-RELEASE/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify3/3.3.0/ga-RELEASE/`,
      packageFile: '3.3.0-ga-b274',
      released: '3.3',
      shell: { version: '3.3.0', prerelease: 'ga', build: '274', coreTag: '3.3', pluginsTag: '1.3' },
    },
  ],
  [
    'patch',
    '3.3.1',
    {
      py: '3.3.1',
      pluginsPy: '1.3.1',
      ref: '3.3-patch1',
      pluginsRef: '3.3-patch1',
      yaml: '3.3.1',
      pluginsYaml: '1.3.1',
      versionFile: '3.3.1',
      releaseUrl: `${STORAGE_URL}/org/cloudify3/3.3.1/sp-RELEASE/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify3/3.3.1/sp-RELEASE/`,
      packageFile: '3.3.1-sp-b274',
      released: '3.3.1',
      shell: { version: '3.3.1', prerelease: 'sp', build: '274', coreTag: '3.3-patch1', pluginsTag: '3.3-patch1' },
    },
  ],
  [
    'milestone',
    '3.3rc1',
    {
      py: '3.3rc1',
      pluginsPy: '1.3rc1',
      ref: '3.3rc1',
      pluginsRef: '1.3rc1',
      yaml: '3.3rc1',
      pluginsYaml: '1.3rc1',
      versionFile: '3.3.0-rc1',
      releaseUrl: `${STORAGE_URL}/org/cloudify3/3.3.0/rc1-RELEASE/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify3/3.3.0/rc1-RELEASE/`,
      packageFile: '3.3.0-rc1-b274',
      released: '3.3rc1',
      shell: { version: '3.3.0', prerelease: 'rc1', build: '274', coreTag: '3.3rc1', pluginsTag: '1.3rc1' },
    },
  ],
  [
    'patch',
    '3.3.1',
    {
      py: '3.3.1',
      pluginsPy: '1.3.1',
      ref: '3.3.1',
      pluginsRef: '1.3.1',
      yaml: '3.3.1',
      pluginsYaml: '1.3.1',
      versionFile: '3.3.1',
      releaseUrl: `${STORAGE_URL}/org/cloudify3/3.3.1/sp-RELEASE/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify3/3.3.1/sp-RELEASE/`,
      packageFile: '3.3.1-sp-b274',
      released: '3.3.1',
      shell: { version: '3.3.1', prerelease: 'sp', build: '274', coreTag: '3.3.1', pluginsTag: '1.3.1' },
    },
    TAGGED_PATCH,
  ],
  [
    'patch',
    '3.3.1m1',
    {
      py: '3.3.1a1',
      pluginsPy: '1.3.1a1',
      ref: '3.3.1m1',
      pluginsRef: '1.3.1m1',
      yaml: '3.3.1m1',
      pluginsYaml: '1.3.1m1',
      versionFile: '3.3.1-m1',
      releaseUrl: `${STORAGE_URL}/org/cloudify3/3.3.1/m1-RELEASE/`,
      formerHostUrl: `${STORAGE_URL}/org/cloudify3/3.3.1/m1-RELEASE/`,
      packageFile: '3.3.1-m1-b274',
      released: '3.3.1a1',
      shell: { version: '3.3.1', prerelease: 'm1', build: '274', coreTag: '3.3.1m1', pluginsTag: '1.3.1m1' },
    },
  ],
];

describe('preset: cloudify on a product shaped like Cloudify (real repositories, the version stage activities)', function () {
  for (const [kind, version, after, overrides] of releases) {
    const title = `${kind} ${version ?? '3.3 of 20261124'}${overrides ? ' (tagged, on its -build branch)' : ''}`;
    it(`${title}: every file the old version tool rewrote, every line, and a second pass changes nothing`, async function () {
      const root = tempDir(`cloudify-${kind}`);
      const remotes = createProductRemotes(root);
      const manifest = manifestOf({ ...productManifest(remotes), ...overrides });
      // Build 274: the number the release takes when it starts.
      const plan = { ...buildReleasePlan(manifest, { kind, version, date: '20261124' }), build: 274 };
      const activities = createGitActivities(new GitWorkspace(join(root, 'workspace')));
      const before = productFiles(BEFORE);
      const expected = productFiles(after);
      // As the workflow runs them: every checkout first (each reads the package its setup.py declares), then every version step.
      const checkouts = new Map<string, CheckoutResult>();
      for (const repository of plan.repositories) {
        const rules = repositoryRules(manifest, repository.name);
        const values = repositoryTemplateValues(plan, manifest, repository);
        checkouts.set(
          repository.name,
          await activities.checkoutRepository({ releaseId: plan.releaseId, repository, versionRules: { rules, values } }),
        );
      }
      const packages = declaredPackages(plan.repositories.map(({ name }) => ({ name, ...checkouts.get(name) })));
      assert.deepEqual(packages, { 'cloudify-cli': 'cloudify' });
      const siblings = siblingValues(manifest, packages);
      for (const repository of plan.repositories) {
        const ref = { releaseId: plan.releaseId, repository };
        const rules = repositoryRules(manifest, repository.name);
        const values = repositoryTemplateValues(plan, manifest, repository, siblings);
        assert.equal(values.release_url, after.releaseUrl);
        const { baseSha } = checkouts.get(repository.name) as CheckoutResult;
        const input = { ...ref, baseSha, rules, values, author, message: plan.commitMessage };
        const first = await activities.versionRepository(input);
        const changed = Object.keys(expected[repository.name]).filter(
          (path) => expected[repository.name][path] !== before[repository.name][path],
        );
        assert.deepEqual([...first.changedFiles].sort(), changed.sort(), repository.name);
        for (const [path, content] of Object.entries(expected[repository.name])) {
          const stored = execFileSync('git', ['cat-file', 'blob', `${repository.buildBranch}:${path}`], { cwd: remotes[repository.name] });
          assert.deepEqual(
            stored.toString('latin1'),
            fileBytes(repository.name, path, content).toString('latin1'),
            `${repository.name}/${path}`,
          );
        }
        // The rules over their own output change nothing, and a retried version step makes no second commit.
        const released = Object.entries(expected[repository.name]).map(([path, content]) => ({ path, content }));
        assert.deepEqual(applyVersionRules(repository.name, released, rules, values).changes, []);
        const again = await activities.versionRepository(input);
        assert.deepEqual(
          { ...again, changedFiles: [...again.changedFiles].sort() },
          { headSha: first.headSha, changedFiles: [...first.changedFiles].sort(), committed: false },
        );
      }
      assert.deepEqual(
        plan.repositories.map((repository) => repository.name),
        PRODUCT_REPOSITORIES,
      );
    });
  }

  it('relflow plan milestone --version 3.3m4 shows each rewrite and pushes nothing', function () {
    const root = tempDir('cloudify-plan');
    const remotes = createProductRemotes(root);
    const config = writeManifest(root, productManifest(remotes));
    const result = runCli(['plan', 'milestone', '--version', '3.3m4', '-c', config]);
    assert.equal(result.status, 0, result.stderr);
    for (const line of [
      "+        'cloudify-rest-client==3.3a4',",
      "+        'cloudify-dsl-parser>=3.3a4,<4',",
      '+-e git+https://github.com/cloudify-cosmo/cloudify-rest-client@3.3m4#egg=cloudify-rest-client==3.3a4',
      '+export PRERELEASE="m4"',
      '+CORE_TAG_NAME="3.3m4"',
      '+PLUGINS_TAG_NAME=1.3m4',
      '+    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.3m4.zip',
      '+  plugins_branch: 1.3m4',
      '+  "version": "3.3.0-m4"',
      // Siblings: the CLI's package by the name its setup.py declares, a sibling released elsewhere; never the agent packager.
      "+    install_requires=['cloudify==3.3a4', 'cloudify-agent-packager==3.5.2', 'fabric==1.8.3'],",
      '+cloudify-diamond-plugin==1.3a4',
      // plan shows build 0: the release takes its number when it starts.
      `+    default: ${STORAGE_URL}/org/cloudify3/3.3.0/m4-RELEASE/cloudify-ui_3.3.0-m4-b0_amd64.deb`,
      `+    default: ${STORAGE_URL}/org/cloudify3/3.3.0/m4-RELEASE/cloudify-rest-service_3.3.0-m4-b0_amd64.deb`,
      "+      - {'source_path': 'http://www.getcloudify.org/spec/fabric-plugin/1.3m4/plugin.yaml', 'destination_path': '/spec/fabric-plugin/1.3m4/plugin.yaml'}",
      '+    "cloudify_manager": "-b 3.3m4 https://github.com/cloudify-cosmo/cloudify-manager.git",',
      '+    "cloudify_rest_client": "git+git://github.com/cloudify-cosmo/cloudify-rest-client.git@3.3m4",',
      '+    default: https://raw.githubusercontent.com/cloudify-cosmo/cloudify-manager/3.3m4/resources/rest-service/cloudify/types/types.yaml',
      '+    version: "3.3.0-m4"',
      "+export CLOUDIFY_VERSION='3.3.0'",
      '+CLOUDIFY_VERSION=3.3.0',
    ]) {
      assert.ok(result.stdout.includes(line), `plan shows ${line}\n${result.stdout}`);
    }
    assert.match(result.stdout, /the version rules: valid, required ones match, idempotent/);
    // What the rules match but is no version is left, and shown.
    for (const line of [
      "    dsl_parser/version.py:1: VERSION = 'tosca_definitions_version': 'tosca_definitions_version' is not a version: left (version_info modules)",
      "    packaging/manager-blueprint.yaml:3: http://www.getcloudify.org/spec/cloudify/CORE_TAG_NAME/types.yaml: 'CORE_TAG_NAME' is not a version: left (types.yaml import URLs)",
      "    suites/suites.yaml:6: system_tests_branch: _: '_' is not a version: left (system-test branch keys (core))",
    ]) {
      assert.ok(result.stdout.includes(`\n${line}\n`), `plan shows ${line}\n${result.stdout}`);
    }
    // The suite file of YAML 1.1 merge keys is rewritten and checked; a resource that never parsed is rewritten with a warning.
    assert.ok(result.stdout.includes('+  core_branch: 3.3m4'), result.stdout);
    assert.match(
      result.stdout,
      /^warning: cloudify-manager: tests\/resources\/dsl\/invalid_yaml\.yaml: did not parse before the version rewrite either \(line \d+: [^)]+\), so it is not checked$/m,
    );
  });

  it('relflow plan refuses a rule that breaks a file that parsed, naming the repository, the file and its line', function () {
    const root = tempDir('cloudify-plan-broken');
    const remotes = createProductRemotes(root);
    const manifest = productManifest(remotes);
    manifest.versionRules = [
      ...(manifest.versionRules ?? []),
      {
        description: 'careless region rule',
        type: '^suites\\.yaml$',
        match: 'region: \\S+',
        replace: '\\S+$',
        with: '[{{ yaml_version }}',
        replaces: 'text',
      },
    ];
    const result = runCli(['plan', 'milestone', '--version', '3.3m4', '-c', writeManifest(root, manifest)]);
    assert.equal(result.status, 2, result.stdout);
    assert.match(
      result.stderr,
      /cloudify-system-tests: suites\/suites\.yaml:\d+: no longer parses after the version rewrite \(careless region rule\): /,
    );
  });
});
