import { strict as assert } from 'node:assert';
import { ManifestInput } from '../../src/config/manifest';
import { UserError } from '../../src/config/errors';
import { parseProblem } from '../../src/release/parseCheck';
import { buildReleasePlan, repositoryTemplateValues } from '../../src/release/plan';
import { concreteRules } from '../../src/release/versionRules';
import { applyVersionRules } from '../../src/release/versionRewrite';
import { manifestOf } from '../support/manifests';

const product: ManifestInput = {
  product: 'cloudify',
  versions: { core: '3.5', plugins: '1.5' },
  repositories: [{ name: 'cloudify-system-tests', url: '/srv/tests.git' }],
};
const manifest = manifestOf(product);
const plan = buildReleasePlan(manifest, { kind: 'milestone', version: '3.4m5' });
const values = repositoryTemplateValues(plan, manifest, plan.repositories[0]);

/** A rule that writes `with` over whatever follows `key:`, as a careless custom rule would (`replaces: text`). */
function keyRule(type: string, key: string, written: string) {
  return concreteRules([
    {
      description: `${key} rule`,
      type,
      path: '.*',
      excluded: [],
      match: `${key}\\s*[:=]\\s*\\S+`,
      replace: '(?<=[:=]\\s*)\\S+$',
      with: written,
      replaces: 'text',
      required: false,
    },
  ]);
}

/** YAML 1.1 as PyYAML reads a real system-test suite file: anchors, aliases, merge keys given twice, a duplicate key. */
const SUITES_YAML = `variables:
  core_branch: master
defaults: &defaults
  handler: openstack
  timeout: 3600
openstack: &openstack
  region: RegionOne
tests: &tests [a, b]
test_suites:
  nodecellar:
    <<: *defaults
    <<: *openstack
    tests: *tests
  hello:
    <<: [*defaults, *openstack]
    timeout: 1800
    timeout: 2400
`;

describe('parse checks of rewritten files (YAML 1.1, JSON, TOML, Python)', function () {
  it('reads YAML as PyYAML does: repeated merge keys, aliases, a duplicate key; a YAML error names its line', function () {
    assert.equal(parseProblem('suites/suites.yaml', SUITES_YAML), undefined);
    assert.deepEqual(parseProblem('a.yaml', 'a: 1\nb: [1, 2\nc: 3\n')?.line, 3);
    // A second document is read too.
    assert.equal(parseProblem('a.yml', 'a: 1\n---\nb: {\n')?.line, 4);
  });

  it('never expands aliases: a billion-laughs file is checked without building it', function () {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let level = 1; level <= 9; level += 1) {
      const previous = String.fromCharCode(96 + level);
      const name = String.fromCharCode(97 + level);
      levels.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${previous}`).join(',')}]`);
    }
    assert.equal(parseProblem('bomb.yaml', `${levels.join('\n')}\n`), undefined);
  });

  it('JSON, TOML and Python problems name their lines', function () {
    assert.equal(parseProblem('package.json', '{\n  "version": "3.4.0",\n  "name": \n}\n')?.line, 4);
    assert.equal(parseProblem('package.json', '{\n  "version": "3.4.0,\n  "name": "x"\n}\n')?.line, 2);
    assert.equal(parseProblem('package.json', '{\n  "a": [1, 2,]\n}\n')?.line, 2);
    assert.equal(parseProblem('package.json', '{\n  "a": [1, 2]\n}\n'), undefined);
    assert.equal(parseProblem('pyproject.toml', '[project]\nname = "x"\nversion = "3.4\n')?.line, 3);
    assert.deepEqual(parseProblem('setup.py', "setup(\n    name='x',\n    version='3.4,\n)\n"), {
      line: 3,
      message: "unterminated string literal (opened with ')",
    });
    assert.deepEqual(parseProblem('setup.py', "setup(\n    install_requires=['a'],\n"), { line: 1, message: "'(' was never closed" });
    assert.equal(parseProblem('setup.py', `x = """\nversion='3.4\n"""  # it's fine\ny = r'\\d+' + f"{x!r}"\n`), undefined);
    assert.equal(parseProblem('README.md', '[unclosed'), undefined, 'other files are not checked');
  });

  it('refuses a rewrite that breaks a file that parsed, naming the repository, the file, its line and the rule', function () {
    assert.throws(
      () =>
        applyVersionRules(
          'cloudify-system-tests',
          [{ path: 'suites/suites.yaml', content: SUITES_YAML }],
          keyRule('\\.yaml$', 'core_branch', '[{{ yaml_version }}'),
          values,
        ),
      (error: Error) => {
        assert.ok(error instanceof UserError);
        assert.match(
          error.message,
          /^cloudify-system-tests: suites\/suites\.yaml:\d+: no longer parses after the version rewrite \(core_branch rule\): /,
        );
        return true;
      },
    );
    assert.throws(
      () =>
        applyVersionRules(
          'cloudify-rest-client',
          [{ path: 'setup.py', content: "setup(\n    version='3.3',\n)\n" }],
          keyRule('^setup\\.py$', 'version', "'{{ python_version }}"),
          values,
        ),
      /^UserError: cloudify-rest-client: setup\.py:2: no longer parses after the version rewrite \(version rule\): unterminated string literal/,
    );
    assert.throws(
      () =>
        applyVersionRules(
          'x',
          [{ path: 'pyproject.toml', content: '[project]\nversion = "3.3"\n' }],
          keyRule('\\.toml$', 'version', '"{{ python_version }}'),
          values,
        ),
      /^UserError: x: pyproject\.toml:2: no longer parses after the version rewrite/,
    );
  });

  it('a file that did not parse before the rewrite is rewritten with a warning naming repository and file, not refused', function () {
    const invalid = 'core_branch: master\nnode_templates: [unclosed\n';
    const { changes, warnings } = applyVersionRules(
      'cloudify-manager',
      [
        { path: 'tests/resources/invalid-blueprint.yaml', content: invalid },
        { path: 'suites.yaml', content: SUITES_YAML },
      ],
      keyRule('\\.yaml$', 'core_branch', '{{ yaml_version }}'),
      values,
    );
    assert.deepEqual(
      changes.map((change) => [change.path, change.after.split('\n')[0]]),
      [
        ['suites.yaml', 'variables:'],
        ['tests/resources/invalid-blueprint.yaml', 'core_branch: 3.4m5'],
      ],
    );
    assert.deepEqual(warnings, [
      'cloudify-manager: tests/resources/invalid-blueprint.yaml: did not parse before the version rewrite either (line 3: Flow sequence in block collection must be sufficiently indented and end with a ]), so it is not checked',
    ]);
  });
});
