import { isGitRefName } from './names';
import { z } from 'zod';
import { DEFAULT_EC2_POLL_INTERVAL, DEFAULT_PACKAGE_FILE_VERSION, DEFAULT_SPEC_LAYOUT } from './defaults';
import { durationMs } from './duration';

/**
 * The release manifest: what a product is made of and how it is released.
 * Secrets are never written here: fields ending in `Env` name the environment
 * variable an activity reads when it runs.
 */

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, ".", "_" or "-" (e.g. cloudify-rest-client)')
  .max(100, 'at most 100 characters (it becomes part of workflow IDs and paths)');
/** Prefixes of real tokens and keys: a value with one is a secret pasted where its variable's name belongs. */
const SECRET_SHAPES = /^(ghp_|gho_|ghs_|ghu_|github_pat_|glpat-|pypi-|pypi_|AKIA|ASIA|xox[abpr]-|sk_live_|npm_)/;
const envName = z.string().superRefine((value, context) => {
  // A pasted secret is named as such (and only that), so the person does not try to make it a valid name.
  if (SECRET_SHAPES.test(value) || (value.length >= 32 && /[a-z]/.test(value) && /[A-Z]/.test(value) && /\d/.test(value))) {
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message:
        "this looks like a secret, not the name of an environment variable: put the secret in the worker's environment and name its variable here (e.g. GITHUB_TOKEN)",
    });
  } else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    context.addIssue({ code: z.ZodIssueCode.custom, message: 'the name of an environment variable (e.g. GITHUB_TOKEN)' });
  }
});
/** A path inside a repository or a build: relative, never '..', never an option. */
/* eslint-disable no-control-regex -- control characters are what these patterns refuse */
const insidePath = z
  .string()
  .min(1)
  .refine(
    (path) => !path.startsWith('/') && !path.startsWith('-') && !path.split('/').includes('..') && !/[\x00-\x1f]/.test(path),
    'a relative path inside the repository (no leading /, no .., no leading -)',
  );
/** An http(s) URL: a file:// or other scheme would read or write where it should not. */
const httpUrl = z
  .string()
  .url()
  .refine((url) => /^https?:\/\//i.test(url), 'an http(s) URL')
  // A user or password in a URL would land in the workflow history and in every error that names the URL.
  .refine((url) => !/^https?:\/\/[^/]*@/i.test(url), "credentials in the URL: remove them and name the secret in the section's *Env field");
/* eslint-enable no-control-regex */
const email = z.string().regex(/^[^@\s]+@[^@\s]+$/, 'an email address such as release@example.com');
/** Longer would overflow the timers that enforce it (24.8 days); a release step of three weeks is a mistake anyway. */
const MAX_DURATION = '21d';
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 90s, 30m, 12h or 3d')
  .refine((value) => !/^\d+(ms|s|m|h|d)$/.test(value) || durationMs(value) <= durationMs(MAX_DURATION), `at most ${MAX_DURATION}`)
  .refine((value) => !/^\d+(ms|s|m|h|d)$/.test(value) || durationMs(value) >= 1000, 'at least 1s');
const gitUrl = z
  .string()
  .min(1)
  .refine((url) => !/\s/.test(url) && !url.startsWith('-'), 'a git URL or path (e.g. https://github.com/org/repo.git)')
  // A user or token in an http(s) URL would land in the workflow history and in every error that names the URL.
  .refine((url) => !/^https?:\/\/[^/]*@/i.test(url), "credentials in the URL: remove them and name the token's variable in git.tokenEnv");

export const VERSION_PRESETS = [
  'cloudify',
  'setup.py',
  'setup.py-pins',
  'requirements',
  'pyproject.toml',
  '__version__',
  'version_info',
  'package.json',
  'plugin.yaml',
  'types.yaml',
  'sphinx-conf.py',
  'blueprint',
  'travis',
  'system-tests',
  'VERSION',
  'cloudify-VERSION',
  'provision.sh',
  'packages.yaml',
  'package-sources',
] as const;
export type VersionPreset = (typeof VERSION_PRESETS)[number];

/** `{{ name }}` or the original version tool's `{{ .name }}` (src/release/template.ts renders them). */
export const TEMPLATE_PLACEHOLDER = /\{\{\s*\.?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** What a version rule may name: every value of src/release/plan.ts's repositoryTemplateValues (test/manifest.test.ts holds them equal). */
export const RULE_TEMPLATE_NAMES = [
  'product',
  'kind',
  'release_name',
  'major',
  'minor',
  'patch',
  'prerelease',
  'date',
  'release_dir',
  'version_version_base',
  'yaml_core_version',
  'yaml_plugins_version',
  'python_core_version',
  'python_plugins_version',
  'version_version',
  'version_plugins_version',
  'repository',
  'repository_pattern',
  'main_branch',
  'ref',
  'build',
  'core_ref',
  'plugins_ref',
  'package_prerelease',
  'package_file_version',
  'core_siblings',
  'plugins_siblings',
  'core_sibling_repositories',
  'plugins_sibling_repositories',
  'python_version',
  'yaml_version',
  'version_file_version',
  'storage_url',
  'release_url',
  'storage_url_pattern',
];
/** A required field of a custom version rule: missing or empty, it is named with what it is and an example. */
function ruleField(field: string, what: string, example: string) {
  const message = `a rule needs '${field}' (${what}), e.g. ${example}`;
  return z.string({ required_error: message, invalid_type_error: message }).min(1, message);
}

/** The release kinds a rule runs in; every kind when absent. Its idempotency is checked for those kinds only. */
const ruleKinds = z
  .array(z.enum(['nightly', 'milestone', 'ga', 'patch']))
  .min(1, 'at least one release kind; leave kinds out for every kind')
  .optional()
  .describe('the release kinds the rule runs in, e.g. [milestone, ga, patch]; every kind when absent');

/** File paths a rule leaves alone: a path relative to the repository, or a regular expression over the whole path. */
const excludedPaths = z
  .array(
    z.string().refine((entry) => {
      try {
        new RegExp(entry);
        return true;
      } catch {
        return false;
      }
    }, 'a path or a regular expression over the path, e.g. tests/resources/.*'),
  )
  .describe('file paths (relative to the repository) left alone: each a path or a regular expression over the whole path');

const versionRule = z.union([
  z
    .object({
      preset: z.enum(VERSION_PRESETS),
      required: z.boolean().default(false),
      kinds: ruleKinds,
      excluded: excludedPaths.optional(),
    })
    .strict(),
  z
    .object({
      description: z.string().default(''),
      // The old version tool's rules lacked some of these; a missing one is named with what it is.
      type: ruleField('type', 'a regular expression over file names', 'type: ^setup\\.py$').describe(
        'regular expression over the file name, e.g. setup.py or (.*-)?blueprint.yaml',
      ),
      path: z.string().default('.*').describe('regular expression over the repository name, e.g. cloudify-.*-plugin'),
      excluded: excludedPaths.default([]),
      kinds: ruleKinds,
      match: ruleField('match', 'a regular expression that finds the spot', "match: version='[^']*'").describe(
        'regular expression that finds the spot',
      ),
      replace: ruleField('replace', 'a regular expression inside the match that is replaced', 'replace: "[0-9][^\']*"').describe(
        'regular expression inside the match that is replaced',
      ),
      with: ruleField('with', 'a template over the version forms', 'with: "{{ python_core_version }}"').describe(
        'template over the version forms, e.g. {{ .python_core_version }}',
      ),
      replaces: z
        .enum(['version', 'text'])
        .optional()
        .describe(
          'version (the default): only a version or a ref is replaced, anything else is left and shown by plan; text: whatever replace matches',
        ),
      required: z.boolean().default(false),
    })
    .strict()
    .superRefine((rule, context) => {
      for (const field of ['type', 'path', 'match', 'replace', 'with'] as const) {
        const unknown = [...rule[field].matchAll(TEMPLATE_PLACEHOLDER)]
          .map((match) => match[1])
          .filter((name) => !RULE_TEMPLATE_NAMES.includes(name));
        if (unknown.length > 0) {
          context.addIssue({
            code: z.ZodIssueCode.custom,
            path: [field],
            message: `unknown template value {{ ${unknown[0]} }}; known values: ${RULE_TEMPLATE_NAMES.join(', ')}`,
          });
          continue;
        }
        if (field === 'with') continue;
        try {
          new RegExp(rule[field].replace(TEMPLATE_PLACEHOLDER, 'x'));
        } catch (error) {
          context.addIssue({
            code: z.ZodIssueCode.custom,
            path: [field],
            message: `invalid regular expression: ${(error as Error).message}`,
          });
        }
      }
    }),
]);

/** A Python distribution name (PEP 508): what a pin names. */
const pythonPackage = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?$/, 'a Python package name, e.g. cloudify-rest-client');

/** A package or repository released elsewhere that follows one of the release's streams. */
const sibling = z
  .object({
    name: pythonPackage.describe('its package name (and repository name, for git references and archive URLs)'),
    stream: z.enum(['core', 'plugins']).default('core'),
  })
  .strict();

const repository = z
  .object({
    name,
    url: gitUrl,
    branch: z
      .string()
      .refine(isGitRefName, 'a git branch name (no spaces, no .., no leading -)')
      .default('master')
      .describe('the main branch nightlies and build branches start from'),
    stream: z.enum(['core', 'plugins']).default('core').describe('which version stream the repository carries'),
    package: pythonPackage
      .optional()
      .describe(
        "the Python package its setup.py declares, when relflow cannot read it there (the CLI repository's 'cloudify'); siblings pin it",
      ),
    pypi: z
      .union([z.boolean(), z.object({ packageDir: insidePath.default('.') }).strict()])
      .default(false)
      .describe('publish the Python package of this repository to PyPI'),
    readthedocs: z.string().optional().describe('ReadTheDocs project slug'),
    pluginYaml: insidePath.optional().describe('path of plugin.yaml inside the repository'),
    typesYaml: insidePath.optional().describe('path of types.yaml inside the repository'),
    specName: name
      .optional()
      .describe(
        "the name in the spec URL (spec/<name>/<version>/types.yaml): default the product for types.yaml, the repository name without '<product>-' for plugin.yaml",
      ),
    versionRules: z.array(versionRule).optional().describe('rules for this repository, instead of the top-level ones'),
  })
  .strict();

/**
 * A variable of the worker that a build may see: never one that holds or
 * reaches a credential (a build runs the repository's code).
 */
export const CREDENTIAL_VARIABLE =
  /^(AWS_|SSH_|GIT_|GITHUB_|RELFLOW_|TEMPORAL_|TWINE_|PYPI_|VAULT_|GOOGLE_|AZURE_)|TOKEN|SECRET|PASSW|PRIVATE|CREDENTIAL|API_?KEY|AUTH/i;
const buildVariable = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'the name of an environment variable (e.g. JAVA_HOME)')
  .refine((name) => !CREDENTIAL_VARIABLE.test(name), 'a variable that may hold a credential is never passed to a build');

const artifact = z
  .object({
    name,
    repository: name.describe('the repository whose checkout the build runs in'),
    builder: z.enum(['local', 'ec2', 'vagrant']).default('local'),
    command: z.string().min(1).describe('the build command, run by sh in the repository (or on the machine)'),
    outputs: z.array(insidePath).min(1).describe('files the build leaves, relative to the repository; globs allowed'),
    timeout: duration.default('2h'),
    network: z
      .boolean()
      .optional()
      .describe('whether a local build may reach the network (its sandbox has none otherwise), e.g. to download dependencies'),
    env: z
      .array(buildVariable)
      .optional()
      .describe("variables of the worker's environment a local build sees (it gets no other but PATH, LANG, TMPDIR, proxies)"),
    ec2: z
      .object({
        imageId: z.string().min(1),
        instanceType: z.string().default('t3.large'),
        subnetId: z.string().optional(),
        keyName: z.string().optional(),
      })
      .strict()
      .optional(),
    vagrant: z.object({ directory: insidePath }).strict().optional(),
  })
  .strict();

const s3Target = z
  .object({
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name (3 to 63 lower-case letters, digits, "." and "-")'),
    region: z.string().default('us-east-1'),
    endpoint: httpUrl.optional().describe('an S3-compatible endpoint; AWS when absent'),
    accessKeyIdEnv: envName.optional(),
    secretAccessKeyEnv: envName.optional(),
  })
  .strict();

const mirror = z.discriminatedUnion('type', [
  s3Target.extend({ type: z.literal('s3'), name }).strict(),
  z
    .object({
      type: z.literal('directory'),
      name,
      path: z
        .string()
        // eslint-disable-next-line no-control-regex -- a path with control characters is refused
        .regex(/^\/[^\x00-\x1f]*$/, "an absolute directory path (a relative one would depend on the worker's working directory)"),
    })
    .strict(),
]);

const storage = s3Target
  .extend({
    layout: z.string().default('org/{{ product }}/{{ version_version_base }}/{{ release_dir }}/{{ file }}').describe('object key template'),
    nightlyLayout: z
      .string()
      .default('org/{{ product }}/nightly/{{ date }}/{{ file }}')
      .describe("object key template of nightlies; the date keeps each nightly's files apart"),
    specLayout: z
      .string()
      .default(DEFAULT_SPEC_LAYOUT)
      .describe(
        'object key template of types.yaml and plugin.yaml: where the import URLs the version rules write point (spec_name, yaml_version, file, ...)',
      ),
    publicUrl: httpUrl.optional().describe('the URL the stored files are downloaded from; the bucket URL when absent'),
    formerPublicUrls: z
      .array(httpUrl)
      .max(20)
      .optional()
      .describe("earlier hosts of the stored files: the version rules move package URLs under them to this release's directory"),
    md5: z.boolean().default(false).describe('also write .md5 files beside the .sha256 ones'),
    firstBuildNumber: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe(
        "the product's first build number, when its counter (.relflow/build-numbers/<product>.json in the bucket) does not exist yet",
      ),
    mirrors: z.array(mirror).default([]),
  })
  .strict();

/** Measured: a 501-repository release's state is 200 kB, its history 3 MB (test/workflow.test.ts). */
export const MAX_REPOSITORIES = 2000;

const gate = z
  .object({
    enabled: z.boolean().optional().describe('default: on for milestone and GA, off for patches, never for nightlies'),
    approvers: z.array(z.string().min(1)).default([]).describe('who may approve; anyone when empty'),
    timeout: duration.default('3d'),
    reminderEvery: duration.default('12h'),
  })
  .strict();

export const manifestSchema = z
  .object({
    product: name,
    installation: name
      .optional()
      .describe(
        'this relflow installation: its EC2 build machines are tagged <namespace>/<installation> and `relflow reap` touches only those (default: the product)',
      ),
    versions: z
      .object({
        core: z.string().regex(/^\d+\.\d+$/, 'X.Y, the core version in development (e.g. 3.5)'),
        plugins: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'X.Y, the plugins version (e.g. 1.5)'),
      })
      .strict(),
    naming: z
      .object({
        branch: z
          .object({
            nightly: z.string().default('{{ main_branch }}'),
            // The core version for every repository: '{{ version }}-build' names a plugin's by its own stream (1.3-build), but a GA
            // that does not bump the plugins would then find the earlier GA's 1.3-build beside its 1.3 tag and take it for its own.
            milestone: z.string().default('{{ yaml_core_version }}-build'),
            ga: z.string().default('{{ yaml_core_version }}-build'),
            patch: z.string().default('{{ major }}.{{ minor }}-patch{{ patch }}'),
          })
          .strict()
          .default({}),
        tag: z
          .object({
            nightly: z.string().default('nightly-{{ date }}'),
            milestone: z.string().default('{{ version }}'),
            ga: z.string().default('{{ version }}'),
            patch: z
              .string()
              .optional()
              .describe(
                "tag of a patch (e.g. '{{ version }}': 3.3.1, plugins 1.3.1); off by default, as patches are built from their branch",
              ),
          })
          .strict()
          .default({}),
        commitMessage: z.string().default('Release {{ product }} {{ release_name }}'),
        packageFileVersion: z
          .string()
          .default(DEFAULT_PACKAGE_FILE_VERSION)
          .describe(
            'the version in the file names of stored packages (cloudify-ui_3.3.0-m4-b274_amd64.deb), as the version rules write it',
          ),
      })
      .strict()
      .default({}),
    git: z
      .object({
        author: z
          .object({
            name: z
              .string()
              .min(1)
              .max(100)
              // eslint-disable-next-line no-control-regex -- control characters (a NUL) are what it refuses
              .regex(/^[^\x00-\x1f<>]+$/, 'a name without control characters or <>'),
            email: email,
          })
          .strict()
          .default({ name: 'relflow', email: 'relflow@localhost' }),
        parallelism: z.number().int().min(1).max(64).default(4),
        tokenEnv: envName.optional().describe('token for https remotes'),
      })
      .strict()
      .default({}),
    repositories: z
      .array(repository)
      .min(1, 'at least one repository')
      .max(
        MAX_REPOSITORIES,
        `at most ${MAX_REPOSITORIES} repositories in one release: its state, result and query answer must stay under Temporal's 2 MB payload limit (the event count is not the limit: per-repository work runs in child workflows of 100); release the product as several manifests`,
      ),
    versionRules: z.array(versionRule).default([{ preset: 'setup.py' }, { preset: 'plugin.yaml' }]),
    siblings: z
      .array(sibling)
      .default([])
      .describe(
        "packages released elsewhere that follow a stream: pinned like the release's own repositories, which (by name and by the package their setup.py declares) are the siblings",
      ),
    artifacts: z.array(artifact).default([]),
    storage: storage.optional(),
    ec2: z
      .object({
        region: z.string().default('us-east-1'),
        endpoint: httpUrl.optional().describe('an EC2-compatible endpoint; AWS when absent'),
        accessKeyIdEnv: envName.optional(),
        secretAccessKeyEnv: envName.optional(),
        pollInterval: duration.default(DEFAULT_EC2_POLL_INTERVAL).describe("how often a build waits to look for its machine's result"),
      })
      .strict()
      .default({})
      .describe('where the ec2 builder starts its machines'),
    ci: z
      .discriminatedUnion('provider', [
        z.object({ provider: z.literal('none') }).strict(),
        z
          .object({
            provider: z.literal('github'),
            apiUrl: httpUrl.default('https://api.github.com'),
            owner: z.string().min(1),
            tokenEnv: envName.optional(),
            timeout: duration.default('2h'),
            pollEvery: duration.default('30s'),
          })
          .strict(),
        z
          .object({
            provider: z.literal('command'),
            command: z.string().min(1),
            timeout: duration.default('2h'),
          })
          .strict(),
      ])
      .default({ provider: 'none' }),
    systemTests: z
      .object({
        command: z.string().min(1),
        junit: insidePath.optional().describe('JUnit XML file the command writes, relative to its working directory'),
        timeout: duration.default('4h'),
      })
      .strict()
      .optional(),
    gates: z
      .object({ pypi: gate.default({}), docs: gate.default({}) })
      .strict()
      .default({}),
    pypi: z
      .object({
        repositoryUrl: httpUrl.default('https://upload.pypi.org/legacy/'),
        indexUrl: httpUrl.optional().describe('the simple index of that repository; derived from repositoryUrl when absent'),
        usernameEnv: envName.optional(),
        passwordEnv: envName.optional(),
      })
      .strict()
      .optional(),
    github: z
      .object({
        releases: z
          .boolean()
          .default(false)
          .describe(
            'a GitHub release per repository for its tag: a draft with its notes and links to the stored files after the artifacts, published by the announce stage',
          ),
        apiUrl: httpUrl.optional().describe("GitHub's API (default: ci.apiUrl with the github CI provider, else https://api.github.com)"),
        owner: z.string().min(1).optional().describe('the owner of the repositories on GitHub (default: ci.owner)'),
        tokenEnv: envName.optional().describe('the token, allowed to write releases (default: ci.tokenEnv)'),
      })
      .strict()
      .default({}),
    readthedocs: z
      .object({
        apiUrl: httpUrl.default('https://readthedocs.org/api/v3'),
        tokenEnv: envName,
        timeout: duration.default('1h'),
      })
      .strict()
      .optional(),
    notifications: z
      .object({
        email: z
          .object({
            from: email,
            to: z.array(email).min(1),
            smtp: z
              .object({
                host: z.string().min(1),
                port: z.number().int().min(1).max(65535).default(587),
                secure: z.boolean().default(false),
                userEnv: envName.optional(),
                passwordEnv: envName.optional(),
                requireTLS: z
                  .boolean()
                  .optional()
                  .describe(
                    'refuse to log in without STARTTLS (default: true when passwordEnv is set; false sends the password in clear, e.g. to a relay on loopback)',
                  ),
              })
              .strict()
              .optional(),
            outbox: z.string().min(1).optional().describe('write each mail as an .eml file into this directory instead of sending it'),
          })
          .strict()
          .optional(),
        webhooks: z.array(z.object({ name, urlEnv: envName }).strict()).default([]),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestInput = z.input<typeof manifestSchema>;
export type RepositorySpec = Manifest['repositories'][number];
export type ArtifactSpec = Manifest['artifacts'][number];
export type VersionRule = Manifest['versionRules'][number];
export type GateSpec = Manifest['gates']['pypi'];
