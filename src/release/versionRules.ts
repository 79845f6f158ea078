import type { Manifest, VersionPreset, VersionRule } from '../config/manifest';
import { UserError } from '../config/errors';
import { renderTemplate, TemplateValues } from './template';
import { isPep440, isVersionOrRef, ReleaseKind } from './version';

/**
 * The version tool. A rule has the original tool's shape: `type` (regex over
 * the file name), `path` (regex over the repository name), `excluded` files,
 * `match` (regex that finds the spot), `replace` (regex inside the match) and
 * `with` (a template over the version forms); versionRewrite.ts applies them
 * to a repository's files.
 */
export interface ConcreteRule {
  description: string;
  type: string;
  path: string;
  excluded: string[];
  match: string;
  replace: string;
  with: string;
  required: boolean;
  /** Checked on every value the rule writes. */
  check?: 'pep440';
  /** What the rule may replace: a version or a ref (the default; anything else is left and reported), or any text. */
  replaces?: 'version' | 'text';
  /** The release kinds it runs in; every kind when absent. */
  kinds?: readonly ReleaseKind[];
  /** Where the manifest wrote it (`versionRules[7]`), which a preset's several rules share. */
  origin?: string;
  /** A preset's before/after line (docs/version-rules.md, tests); dropped from the rules a release carries. */
  example?: RuleExample;
}

const QUOTED_VALUE = `(?<=['"])[^'"]*(?=['"])`;

/** What a rule does, shown in docs/version-rules.md and checked by test/unit/versionRules.test.ts: milestone 3.3m4, plugins 1.3. */
export interface RuleExample {
  file: string;
  /** The repository the example file is in (a `-plugin` name carries the plugins stream). */
  repository: string;
  before: string;
  after: string;
}

/** A preset rule's example as written beside it: the repository defaults to cloudify-manager. */
type PresetExample = Omit<RuleExample, 'repository'> & { repository?: string };

type RuleFields = Omit<ConcreteRule, 'description' | 'path' | 'excluded' | 'required'> & Partial<Pick<ConcreteRule, 'path'>>;

function rule(description: string, fields: RuleFields, example?: PresetExample): ConcreteRule {
  return {
    description,
    path: '.*',
    excluded: [],
    required: false,
    ...fields,
    ...(example ? { example: { repository: 'cloudify-manager', ...example } } : {}),
  };
}

// The siblings of each stream are the release's own repositories and packages, and the manifest's `siblings` (plan.ts siblingPattern).
const STREAMS = [
  {
    stream: 'core',
    repository: '{{ core_sibling_repositories }}',
    package: '{{ core_siblings }}',
    python: '{{ python_core_version }}',
    ref: '{{ core_ref }}',
  },
  {
    stream: 'plugins',
    repository: '{{ plugins_sibling_repositories }}',
    package: '{{ plugins_siblings }}',
    python: '{{ python_plugins_version }}',
    ref: '{{ plugins_ref }}',
  },
] as const;

/** How a package source names a sibling repository at a ref; the spot the rule replaces is the ref. */
const REFERENCE_FORMS = {
  archive: {
    what: 'archive URLs of',
    match: (name: string) => `https?://github\\.com/[^/\\s'"]+/${name}/archive/[^/\\s'"#]+?\\.(?:zip|tar\\.gz)`,
    replace: `(?<=/archive/)[^/]+?(?=\\.(?:zip|tar\\.gz)$)`,
  },
  git: {
    what: 'git references to',
    match: (name: string) => `git\\+(?:https?|git|ssh)://(?:git@)?github\\.com/[^/\\s'"]+/${name}(?:\\.git)?@[^#\\s'"]+`,
    replace: `(?<=@)[^@]+$`,
  },
  // `"cloudify_manager": "-b 3.2 https://github.com/org/cloudify-manager.git"`
  clone: {
    what: 'clone -b refs of',
    match: (name: string) => `-b[ \\t]+[^\\s'"]+[ \\t]+(?:https?|git|ssh)://(?:git@)?github\\.com/[^/\\s'"]+/${name}(?:\\.git)?(?![\\w.-])`,
    replace: `(?<=^-b[ \\t]+)[^\\s'"]+`,
  },
  // `raw.githubusercontent.com/<org>/<repository>/<ref>/<path>`
  raw: {
    what: 'raw file URLs of',
    match: (name: string) => `https?://raw\\.githubusercontent\\.com/[^/\\s'"]+/${name}/[^/\\s'"]+/`,
    replace: `(?<=^https?://raw\\.githubusercontent\\.com/[^/]+/[^/]+/)[^/]+(?=/$)`,
  },
} as const;

/**
 * References to sibling repositories in each form an example is given for (the core stream's example):
 * the ref becomes the sibling's tag (3.3m4, never 3.3a4).
 */
function siblingReferenceRules(
  type: string,
  where: string,
  examples: Partial<Record<keyof typeof REFERENCE_FORMS, PresetExample>>,
): ConcreteRule[] {
  const forms = (Object.keys(REFERENCE_FORMS) as (keyof typeof REFERENCE_FORMS)[]).filter((form) => examples[form]);
  return STREAMS.flatMap(({ stream, repository: name, ref }) =>
    forms.map((form) =>
      rule(
        `${where} ${REFERENCE_FORMS[form].what} ${stream} repositories`,
        { type, match: REFERENCE_FORMS[form].match(name), replace: REFERENCE_FORMS[form].replace, with: ref },
        stream === 'core' ? examples[form] : undefined,
      ),
    ),
  );
}

/**
 * Pins of sibling packages (`cloudify-rest-client==3.3a4`, `cloudify-dsl-parser>=3.3a4`):
 * the Python form of their stream. Upper bounds are left alone.
 */
function siblingPinRules(type: string, where: string, prefix: string, examples: Record<'core' | 'plugins', PresetExample>): ConcreteRule[] {
  return STREAMS.map(({ stream, package: name, python }) =>
    rule(
      `${where} pins of ${stream} packages`,
      {
        type,
        match: `${prefix}${name}\\s*(?:==|>=|~=)\\s*[^'"\\s,;#]+`,
        replace: `(?<=(?:==|>=|~=)\\s*)[^'"\\s,;#]+$`,
        with: python,
      },
      examples[stream],
    ),
  );
}

/**
 * Keys that name a branch in system-test configuration (`core_branch:`,
 * `BRANCH_NAME_PLUGINS:`): the tag (or patch branch) of that stream.
 */
function branchKeyRules(type: string): ConcreteRule[] {
  const key = '[\\w-]*(?:branch|BRANCH|Branch)[\\w-]*';
  const plugin = '(?:plugin|PLUGIN|Plugin)';
  return [
    rule(
      'system-test branch keys (core)',
      {
        type,
        match: `^[ \\t-]*(?![\\w-]*${plugin})${key}:[ \\t]*['"]?[\\w./-]+`,
        replace: `(?<=:[ \\t]*['"]?)[\\w./-]+$`,
        with: '{{ core_ref }}',
      },
      { file: 'suites.yaml', repository: 'cloudify-system-tests', before: '  core_branch: master', after: '  core_branch: 3.3m4' },
    ),
    rule(
      'system-test branch keys (plugins)',
      {
        type,
        match: `^[ \\t-]*(?=[\\w-]*${plugin})${key}:[ \\t]*['"]?[\\w./-]+`,
        replace: `(?<=:[ \\t]*['"]?)[\\w./-]+$`,
        with: '{{ plugins_ref }}',
      },
      { file: 'suites.yaml', repository: 'cloudify-system-tests', before: '  plugins_branch: master', after: '  plugins_branch: 1.3m4' },
    ),
  ];
}

/** URLs under the storage's public base point at this release's directory, and the version in their file names is this release's. */
function storageUrlRules(type: string, where: string, example: PresetExample): ConcreteRule[] {
  return [
    rule(
      `${where} package URLs`,
      {
        type,
        match: '{{ storage_url_pattern }}[^\\s\'"]+',
        replace: '{{ storage_url_pattern }}(?=[^/\\s\'"]+$)',
        with: '{{ release_url }}',
        replaces: 'text',
      },
      example,
    ),
    // The version in the file name too, with the release's build number (cloudify-ui_3.3.0-m4-b274_amd64.deb, 3.3.0-ga-b280).
    rule(`${where} package file name versions`, {
      type,
      match: '{{ storage_url_pattern }}[^\\s\'"]+',
      replace: '\\d+\\.\\d+\\.\\d+(?:-(?:m\\d+|rc\\d+|dev\\d*|ga|sp\\d*))?(?:-b\\d+)?(?=(?:[-_.][^/]*)?$)',
      with: '{{ package_file_version }}',
      replaces: 'text',
    }),
  ];
}

const SYSTEM_TEST_FILES = '^(packages|suites)\\.ya?ml$';

const PACKAGE_SOURCE_FILES = '^(?!(?:packages|suites)\\.ya?ml$).*\\.(?:py|ya?ml)$';

/** The spec files a blueprint's `dsl_resources` copy, and the version each takes. */
const DSL_RESOURCE_FILES = [
  { name: 'plugin.yaml', version: '{{ yaml_plugins_version }}' },
  { name: 'types.yaml', version: '{{ yaml_core_version }}' },
];

/** Built-in rules for the common files, so a manifest rarely writes regexes. */
export const PRESETS: Record<Exclude<VersionPreset, 'cloudify'>, ConcreteRule[]> = {
  'setup.py': [
    rule(
      'setup.py version',
      {
        type: '^setup\\.py$',
        match: `\\bversion\\s*=\\s*['"][^'"]*['"]`,
        replace: QUOTED_VALUE,
        with: '{{ python_version }}',
        check: 'pep440',
      },
      { file: 'setup.py', repository: 'cloudify-rest-client', before: "    version='3.3',", after: "    version='3.3a4'," },
    ),
  ],
  'setup.py-pins': siblingPinRules('^setup\\.py$', 'setup.py', `(?<=['"])`, {
    core: { file: 'setup.py', before: "        'cloudify-rest-client==3.2',", after: "        'cloudify-rest-client==3.3a4'," },
    plugins: { file: 'setup.py', before: "        'cloudify-script-plugin==1.2',", after: "        'cloudify-script-plugin==1.3a4'," },
  }),
  requirements: [
    ...siblingPinRules('^(dev-|test-)?requirements\\.txt$', 'requirements', '^', {
      core: { file: 'dev-requirements.txt', before: 'cloudify-dsl-parser>=3.2', after: 'cloudify-dsl-parser>=3.3a4' },
      plugins: { file: 'requirements.txt', before: 'cloudify-diamond-plugin==1.2', after: 'cloudify-diamond-plugin==1.3a4' },
    }),
    // The pin inside a pip VCS fragment, which its ref moves with: `...@3.3m4#egg=cloudify-rest-client==3.3a4`.
    ...siblingPinRules('^(dev-|test-)?requirements\\.txt$', 'requirements #egg=', '(?<=#egg=)', {
      core: {
        file: 'dev-requirements.txt',
        before: '-e git+https://github.com/cloudify-cosmo/cloudify-rest-client@master#egg=cloudify-rest-client==3.2a5',
        after: '-e git+https://github.com/cloudify-cosmo/cloudify-rest-client@3.3m4#egg=cloudify-rest-client==3.3a4',
      },
      plugins: {
        file: 'requirements.txt',
        before: '-e git+https://github.com/cloudify-cosmo/cloudify-script-plugin@master#egg=cloudify-script-plugin==1.2',
        after: '-e git+https://github.com/cloudify-cosmo/cloudify-script-plugin@1.3m4#egg=cloudify-script-plugin==1.3a4',
      },
    }),
    ...siblingReferenceRules('^(dev-|test-)?requirements\\.txt$', 'requirements', {
      archive: {
        file: 'dev-requirements.txt',
        before: 'https://github.com/cloudify-cosmo/cloudify-rest-client/archive/master.zip',
        after: 'https://github.com/cloudify-cosmo/cloudify-rest-client/archive/3.3m4.zip',
      },
      git: {
        file: 'test-requirements.txt',
        before: '-e git+https://github.com/cloudify-cosmo/cloudify-plugins-common@master#egg=cloudify-plugins-common',
        after: '-e git+https://github.com/cloudify-cosmo/cloudify-plugins-common@3.3m4#egg=cloudify-plugins-common',
      },
    }),
  ],
  'pyproject.toml': [
    rule(
      'pyproject.toml [project] version',
      {
        type: '^pyproject\\.toml$',
        match: '^version\\s*=\\s*"[^"]*"',
        replace: '(?<=")[^"]*(?=")',
        with: '{{ python_version }}',
        check: 'pep440',
      },
      { file: 'pyproject.toml', before: 'version = "3.3"', after: 'version = "3.3a4"' },
    ),
  ],
  __version__: [
    rule(
      '__version__ in Python modules',
      {
        type: '^(__init__|__version__|_version|version)\\.py$',
        match: `^__version__\\s*=\\s*['"][^'"]*['"]`,
        replace: QUOTED_VALUE,
        with: '{{ python_version }}',
        check: 'pep440',
      },
      { file: '__init__.py', before: "__version__ = '3.3'", after: "__version__ = '3.3a4'" },
    ),
  ],
  version_info: [
    rule(
      'version_info modules',
      {
        type: '^(version_info|version)(\\.py)?$',
        match: `^(?:VERSION|version_info)\\s*=\\s*['"][^'"]*['"]`,
        replace: QUOTED_VALUE,
        with: '{{ python_version }}',
        check: 'pep440',
      },
      { file: 'version_info.py', before: "version_info = '3.3'", after: "version_info = '3.3a4'" },
    ),
    // The packager's shell form; CLOUDIFY_PACKAGE_RELEASE is left: what a milestone's value is, Cloudify's files do not say.
    shellVariableRule(
      'version_info CLOUDIFY_VERSION',
      'CLOUDIFY_VERSION',
      '{{ version_version_base }}',
      { file: 'version_info', before: "export CLOUDIFY_VERSION='3.2.0'", after: "export CLOUDIFY_VERSION='3.3.0'" },
      { type: '^version_info$' },
    ),
  ],
  'package.json': [
    rule(
      'package.json version',
      {
        type: '^package\\.json$',
        match: '^ {2}"version"\\s*:\\s*"[^"]*"',
        replace: '(?<=:\\s*")[^"]*(?=")',
        with: '{{ version_file_version }}',
      },
      { file: 'package.json', repository: 'cloudify-ui', before: '  "version": "3.3.0",', after: '  "version": "3.3.0-m4",' },
    ),
  ],
  'plugin.yaml': [
    rule(
      'plugin.yaml package_version',
      {
        type: '^plugin\\.yaml$',
        match: `package_version:\\s*['"]?[^'"\\s]+['"]?`,
        replace: `(?<=:\\s*['"]?)[^'"\\s]+`,
        with: '{{ yaml_plugins_version }}',
      },
      {
        file: 'plugin.yaml',
        repository: 'cloudify-script-plugin',
        before: "    package_version: '1.2'",
        after: "    package_version: '1.3m4'",
      },
    ),
    rule(
      'plugin.yaml source archive URL',
      {
        type: '^plugin\\.yaml$',
        // Its own repository's archive only: a plugin.yaml that points at another repository takes that one's ref (package-sources).
        match: `^\\s*source:\\s*['"]?\\S+/{{ repository_pattern }}/archive/[^/\\s'"]+?\\.(?:zip|tar\\.gz)`,
        replace: '(?<=/archive/)[^/]+?(?=\\.(?:zip|tar\\.gz)$)',
        with: '{{ ref }}',
      },
      {
        file: 'plugin.yaml',
        repository: 'cloudify-script-plugin',
        before: '    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.2.zip',
        after: '    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.3m4.zip',
      },
    ),
  ],
  'types.yaml': [
    rule(
      'types.yaml import URLs',
      {
        type: '\\.ya?ml$',
        match: 'https?://[^\\s\'"]+/spec/[^/\\s\'"]+/[^/\\s\'"]+/types\\.yaml',
        replace: '[^/]+(?=/types\\.yaml$)',
        with: '{{ yaml_core_version }}',
      },
      {
        file: 'blueprint.yaml',
        repository: 'cloudify-hello-world-example',
        before: '  - http://www.getcloudify.org/spec/cloudify/3.2/types.yaml',
        after: '  - http://www.getcloudify.org/spec/cloudify/3.3m4/types.yaml',
      },
    ),
    rule(
      'plugin.yaml import URLs',
      {
        type: '\\.ya?ml$',
        match: 'https?://[^\\s\'"]+/spec/[^/\\s\'"]+/[^/\\s\'"]+/plugin\\.yaml',
        replace: '[^/]+(?=/plugin\\.yaml$)',
        with: '{{ yaml_plugins_version }}',
      },
      {
        file: 'blueprint.yaml',
        repository: 'cloudify-hello-world-example',
        before: '  - http://www.getcloudify.org/spec/script-plugin/1.2/plugin.yaml',
        after: '  - http://www.getcloudify.org/spec/script-plugin/1.3m4/plugin.yaml',
      },
    ),
    ...DSL_RESOURCE_FILES.map(({ name, version }) => {
      const file = escapeRegex(name);
      return rule(
        `dsl_resources ${name} source and destination paths`,
        {
          type: '\\.ya?ml$',
          // The pair must agree: the destination takes the version the source's URL takes.
          match:
            `source_path['"]?\\s*:\\s*['"]?[^'"\\s,}]*/spec/[^/'"\\s]+/[^/'"\\s]+/${file}['"]?\\s*,\\s*` +
            `['"]?destination_path['"]?\\s*:\\s*['"]?/spec/[^/'"\\s]+/[^/'"\\s]+/${file}`,
          replace: `(?<=/spec/[^/'"\\s]+/)[^/'"\\s]+(?=/${file})`,
          with: version,
        },
        name === 'plugin.yaml'
          ? {
              file: 'aws-ec2-manager-blueprint-inputs.yaml',
              repository: 'cloudify-manager-blueprints',
              before:
                "  - {'source_path': 'http://www.getcloudify.org/spec/aws-plugin/1.2/plugin.yaml', 'destination_path': '/spec/aws-plugin/1.2/plugin.yaml'}",
              after:
                "  - {'source_path': 'http://www.getcloudify.org/spec/aws-plugin/1.3m4/plugin.yaml', 'destination_path': '/spec/aws-plugin/1.3m4/plugin.yaml'}",
            }
          : undefined,
      );
    }),
  ],
  'sphinx-conf.py': [
    rule(
      'Sphinx conf.py version',
      {
        type: '^conf\\.py$',
        match: `^version\\s*=\\s*u?['"][^'"]*['"]`,
        replace: QUOTED_VALUE,
        with: '{{ major }}.{{ minor }}',
      },
      { file: 'conf.py', before: "version = '3.2'", after: "version = '3.3'" },
    ),
    rule(
      'Sphinx conf.py release',
      {
        type: '^conf\\.py$',
        match: `^release\\s*=\\s*u?['"][^'"]*['"]`,
        replace: QUOTED_VALUE,
        with: '{{ yaml_core_version }}',
      },
      { file: 'conf.py', before: "release = '3.2'", after: "release = '3.3m4'" },
    ),
  ],
  // Any YAML file: the URLs must be under the storage's public bases (openstack.yaml, simple.yaml, *-inputs.yaml).
  blueprint: storageUrlRules('\\.ya?ml$', 'blueprint', {
    file: 'aws-ec2-manager-blueprint-inputs.yaml',
    repository: 'cloudify-manager-blueprints',
    // From a former host (storage.formerPublicUrls), a GA's file name with its build number.
    before:
      '  ui_package_url: http://gigaspaces-repository-eu.s3.amazonaws.com/org/cloudify3/3.2.0/ga-RELEASE/cloudify-ui_3.2.0-ga-b200_amd64.deb',
    after: '  ui_package_url: http://repository.cloudifysource.org/org/cloudify/3.3.0/m4-RELEASE/cloudify-ui_3.3.0-m4-b274_amd64.deb',
  }),
  travis: siblingReferenceRules('^\\.travis\\.yml$', '.travis.yml', {
    archive: {
      file: '.travis.yml',
      before: '  - pip install https://github.com/cloudify-cosmo/cloudify-dsl-parser/archive/master.zip',
      after: '  - pip install https://github.com/cloudify-cosmo/cloudify-dsl-parser/archive/3.3m4.zip',
    },
    git: {
      file: '.travis.yml',
      before: '  - pip install git+https://github.com/cloudify-cosmo/cloudify-rest-client@master',
      after: '  - pip install git+https://github.com/cloudify-cosmo/cloudify-rest-client@3.3m4',
    },
  }),
  'system-tests': [
    ...branchKeyRules(SYSTEM_TEST_FILES),
    ...storageUrlRules(SYSTEM_TEST_FILES, 'system-test', {
      file: 'packages.yaml',
      repository: 'cloudify-system-tests',
      before: '  cli: http://repository.cloudifysource.org/org/cloudify3/3.2.0/ga-RELEASE/cloudify-cli_3.2.0-b200_amd64.deb',
      after: '  cli: http://repository.cloudifysource.org/org/cloudify/3.3.0/m4-RELEASE/cloudify-cli_3.3.0-m4-b274_amd64.deb',
    }),
    ...siblingReferenceRules(SYSTEM_TEST_FILES, 'system-test', {
      archive: {
        file: 'suites.yaml',
        before: '  - https://github.com/cloudify-cosmo/cloudify-manager-blueprints/archive/master.tar.gz',
        after: '  - https://github.com/cloudify-cosmo/cloudify-manager-blueprints/archive/3.3m4.tar.gz',
      },
      git: {
        file: 'packages.yaml',
        before: '  tester: git+https://github.com/cloudify-cosmo/cloudify-system-tests.git@master',
        after: '  tester: git+https://github.com/cloudify-cosmo/cloudify-system-tests.git@3.3m4',
      },
    }),
  ],
  VERSION: [
    rule(
      'VERSION file',
      {
        type: '^VERSION$',
        match: '"version"\\s*:\\s*"[^"]*"',
        replace: '(?<=:\\s*")[^"]*(?=")',
        with: '{{ version_file_version }}',
      },
      { file: 'VERSION', repository: 'cloudify-script-plugin', before: '  "version": "1.2.0",', after: '  "version": "1.3.0-m4",' },
    ),
  ],
  'provision.sh': [
    shellVariableRule('provisioning script VERSION', 'VERSION', '{{ version_version_base }}', {
      before: 'export VERSION="3.2.0"',
      after: 'export VERSION="3.3.0"',
    }),
    // ga, sp, m4, rc1: words, not versions, so the spot is anchored on the variable's name instead.
    shellVariableRule(
      'provisioning script PRERELEASE (m4, rc1, ga, sp)',
      'PRERELEASE',
      '{{ package_prerelease }}',
      { before: 'export PRERELEASE="ga"', after: 'export PRERELEASE="m4"' },
      { replaces: 'text' },
    ),
    shellVariableRule('provisioning script BUILD', 'BUILD', '{{ build }}', { before: 'export BUILD="200"', after: 'export BUILD="274"' }),
    shellVariableRule('provisioning script CORE_TAG_NAME', 'CORE_TAG_NAME', '{{ core_ref }}', {
      before: 'CORE_TAG_NAME="master"',
      after: 'CORE_TAG_NAME="3.3m4"',
    }),
    shellVariableRule('provisioning script PLUGINS_TAG_NAME', 'PLUGINS_TAG_NAME', '{{ plugins_ref }}', {
      before: 'PLUGINS_TAG_NAME="master"',
      after: 'PLUGINS_TAG_NAME="1.3m4"',
    }),
  ],
  'packages.yaml': [
    rule(
      'packages.yaml package versions',
      {
        type: '^packages\\.ya?ml$',
        match: `^[ \\t-]*version:[ \\t]*['"]?[^'"\\s#]+`,
        replace: `(?<=:[ \\t]*['"]?)[^'"\\s#]+$`,
        with: '{{ version_version }}',
      },
      { file: 'packages.yaml', repository: 'cloudify-packager', before: '    version: "3.2.0"', after: '    version: "3.3.0-m4"' },
    ),
  ],
  // Python and YAML files that name where siblings come from (a packager's vars.py, YAML defaults);
  // the system-test files have their own preset.
  'package-sources': [
    ...siblingReferenceRules(PACKAGE_SOURCE_FILES, 'package source', {
      archive: {
        file: 'openstack.yaml',
        repository: 'cloudify-manager-blueprints',
        before: '    default: https://github.com/cloudify-cosmo/cloudify-manager/archive/master.tar.gz',
        after: '    default: https://github.com/cloudify-cosmo/cloudify-manager/archive/3.3m4.tar.gz',
      },
      git: {
        file: 'vars.py',
        repository: 'cloudify-packager',
        before: '    "cloudify_rest_client": "git+git://github.com/cloudify-cosmo/cloudify-rest-client.git@3.2",',
        after: '    "cloudify_rest_client": "git+git://github.com/cloudify-cosmo/cloudify-rest-client.git@3.3m4",',
      },
      clone: {
        file: 'vars.py',
        repository: 'cloudify-packager',
        before: '    "cloudify_manager": "-b 3.2 https://github.com/cloudify-cosmo/cloudify-manager.git",',
        after: '    "cloudify_manager": "-b 3.3m4 https://github.com/cloudify-cosmo/cloudify-manager.git",',
      },
      raw: {
        file: 'simple.yaml',
        repository: 'cloudify-manager-blueprints',
        before:
          '    default: https://raw.githubusercontent.com/cloudify-cosmo/cloudify-manager/master/resources/rest-service/cloudify/types/types.yaml',
        after:
          '    default: https://raw.githubusercontent.com/cloudify-cosmo/cloudify-manager/3.3m4/resources/rest-service/cloudify/types/types.yaml',
      },
    }),
  ],
  'cloudify-VERSION': [
    rule(
      'VERSION file of a cloudify-* repository (the core version, plugins included)',
      {
        type: '^VERSION$',
        path: '^cloudify-',
        match: '"version"\\s*:\\s*"[^"]*"',
        replace: '(?<=:\\s*")[^"]*(?=")',
        with: '{{ version_version }}',
      },
      { file: 'VERSION', repository: 'cloudify-script-plugin', before: '  "version": "3.2.0",', after: '  "version": "3.3.0-m4",' },
    ),
  ],
};

/** A shell variable (`export VERSION="3.3.1"`, quoted or not) of a provisioning script, or of `type`: its value becomes `value`. */
function shellVariableRule(
  description: string,
  variable: string,
  value: string,
  example: Omit<RuleExample, 'repository' | 'file'> & { file?: string },
  options: { type?: string; replaces?: 'text' } = {},
): ConcreteRule {
  return rule(
    description,
    {
      type: options.type ?? '^(.*[-_])?provision(ing)?\\.sh$',
      match: `^[ \\t]*(?:export[ \\t]+)?${variable}=(?:"[^"\\n]*"|'[^'\\n]*'|[^\\s"';]*)`,
      replace: `(?<==['"]?)[^'"\\s;]*(?=['"]?$)`,
      with: value,
      // Packaging scripts of milestones, GAs and patches; a nightly's packages are named otherwise.
      kinds: ['milestone', 'ga', 'patch'],
      ...(options.replaces ? { replaces: options.replaces } : {}),
    },
    { file: 'provision.sh', repository: 'cloudify-packager', ...example },
  );
}

/** `preset: cloudify`: every kind of file the Cloudify version tool rewrote, each preset also usable alone. */
export const CLOUDIFY_PRESETS: readonly Exclude<VersionPreset, 'cloudify'>[] = [
  'setup.py',
  'setup.py-pins',
  'requirements',
  'plugin.yaml',
  'types.yaml',
  'blueprint',
  'package-sources',
  'system-tests',
  'packages.yaml',
  'cloudify-VERSION',
  'version_info',
  'provision.sh',
];

/** The line of docs/version-rules.md for a preset rule: name, what it rewrites, and its example before and after. */
export function presetTableRow(preset: string, rule: ConcreteRule): string {
  const example = rule.example;
  if (!example) return '';
  const code = (text: string) => `\`${text.trim()}\``;
  const text = rule.description.replace(/[_*]/g, '\\$&');
  return `| \`${preset}\` | ${text} (\`${example.file}\`) | ${code(example.before)} | ${code(example.after)} |`;
}

export function presetRules(preset: VersionPreset): ConcreteRule[] {
  return preset === 'cloudify' ? CLOUDIFY_PRESETS.flatMap((name) => PRESETS[name]) : PRESETS[preset];
}

/** The rules a manifest list expands to (presets into their rules), each naming its place in the manifest (`field[index]`). */
export function concreteRules(rules: readonly VersionRule[], field = 'versionRules'): ConcreteRule[] {
  return rules.flatMap((entry, index) =>
    'preset' in entry
      ? presetRules(entry.preset).map(({ example: _example, ...preset }) => ({
          ...preset,
          excluded: [...preset.excluded, ...(entry.excluded ?? [])],
          required: entry.required,
          ...(entry.kinds ? { kinds: entry.kinds } : {}),
          origin: `${field}[${index}]`,
        }))
      : [
          {
            description: entry.description || entry.type,
            type: entry.type,
            path: entry.path,
            excluded: entry.excluded,
            match: entry.match,
            replace: entry.replace,
            with: entry.with,
            required: entry.required,
            ...(entry.replaces ? { replaces: entry.replaces } : {}),
            ...(entry.kinds ? { kinds: entry.kinds } : {}),
            origin: `${field}[${index}]`,
          },
        ],
  );
}

/** The rules of one repository: its own `versionRules` when it has them, else the manifest's. */
export function repositoryRules(manifest: Pick<Manifest, 'repositories' | 'versionRules'>, repository: string): ConcreteRule[] {
  const index = manifest.repositories.findIndex((candidate) => candidate.name === repository);
  const own = manifest.repositories[index]?.versionRules;
  return own ? concreteRules(own, `repositories[${index}].versionRules`) : concreteRules(manifest.versionRules);
}

function compile(pattern: string, flags: string, where: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    throw new UserError(`${where}: invalid regular expression ${pattern}: ${(error as Error).message}`);
  }
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The package URLs the storage rules find: under any of these public bases (the storage's and its former hosts'). */
export function storageUrlPattern(bases: readonly (string | undefined)[]): string {
  const known = bases.filter((base): base is string => Boolean(base)).map((base) => escapeRegex(base.replace(/\/+$/, '')));
  // Without storage there is nothing to point blueprints at: the pattern matches nothing.
  return known.length > 0 ? `(?:${known.join('|')})/(?:[^\\s'"]*/)?` : '(?!)';
}

/** `storage_url_pattern` lets the blueprint preset find URLs under the storage's public bases. */
export function ruleValues(values: TemplateValues & { storage_url?: string }): TemplateValues {
  return {
    ...values,
    release_url: values.release_url ?? '',
    // An input written before the former hosts existed carries the storage's URL only.
    storage_url_pattern: values.storage_url_pattern ?? storageUrlPattern([values.storage_url]),
  };
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A rule made ready for one release's values: patterns compiled, the replacement rendered and checked. */
export interface PreparedRule {
  rule: ConcreteRule;
  /** `versionRules[3] (setup.py version)`: how errors name it. */
  where: string;
  appliesTo(repository: string): boolean;
  /** Whether it runs in a release of this kind (its `kinds`). */
  runsIn(kind: string): boolean;
  readsFile(path: string): boolean;
  /** The text with every spot rewritten, whether any spot matched, and the spots left because their value is not a version. */
  rewriteText(text: string): { text: string; matched: boolean; left: LeftSpot[] };
}

/** A spot a rule matched and left: what it would have replaced is not a version or a ref. */
export interface LeftSpot {
  /** Offset of the spot in the text. */
  offset: number;
  spot: string;
  value: string;
}

export function prepareRule(current: ConcreteRule, index: number, context: TemplateValues): PreparedRule {
  const where = `${current.origin ?? `versionRules[${index}]`} (${current.description})`;
  const pathPattern = compile(current.path, '', where);
  const typePattern = compile(current.type, '', where);
  const matchPattern = compile(renderTemplate(current.match, context, `${where}.match`), 'gm', where);
  const replacePattern = compile(renderTemplate(current.replace, context, `${where}.replace`), 'g', where);
  const replacement = renderTemplate(current.with, context, `${where}.with`);
  // An entry is the path itself or a regular expression over the whole path.
  const excluded = current.excluded.flatMap((entry) => [entry, compile(`^(?:${entry})$`, '', `${where}.excluded`)]);
  if (current.check === 'pep440' && !isPep440(replacement)) {
    throw new UserError(`${where}: '${replacement}' is not a PEP 440 version`);
  }
  return {
    rule: current,
    where,
    appliesTo: (repository) => pathPattern.test(repository),
    runsIn: (kind) => !current.kinds || current.kinds.some((candidate) => candidate === kind),
    readsFile: (path) =>
      typePattern.test(basename(path)) &&
      !excluded.some((pattern) => pattern === path || (pattern instanceof RegExp && pattern.test(path))),
    rewriteText(text) {
      let matched = false;
      const left: LeftSpot[] = [];
      const rewritten = text.replace(matchPattern, (spot: string, ...rest: unknown[]) => {
        matched = true;
        return spot.replace(replacePattern, (value) => {
          if (current.replaces === 'text' || value === replacement || isVersionOrRef(value)) return replacement;
          left.push({ offset: rest.find((argument) => typeof argument === 'number') as number, spot, value });
          return value;
        });
      });
      return { text: rewritten, matched, left };
    },
  };
}
