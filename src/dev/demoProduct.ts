import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { ManifestInput } from '../config/manifest';

/** A sandbox product shaped like the seed's: Python packages, plugins, types.yaml, a UI with a build, docs, a blueprint. */
const REPOSITORIES: Record<string, Record<string, string>> = {
  'cloudify-rest-client': {
    'setup.py':
      "from setuptools import setup\n\nsetup(\n    name='cloudify-rest-client',\n    version='3.3',\n    packages=['cloudify_rest_client'],\n)\n",
    'cloudify_rest_client/__init__.py': "__version__ = '3.3'\n",
  },
  'cloudify-dsl-parser': {
    'setup.py': "from setuptools import setup\n\nsetup(name='cloudify-dsl-parser', version='3.3', packages=['dsl_parser'])\n",
    'dsl_parser/__init__.py': '',
  },
  'cloudify-manager': {
    'setup.py': "from setuptools import setup\n\nsetup(name='cloudify-manager', version='3.3', packages=[])\n",
    'resources/rest-service/cloudify/types/types.yaml':
      'tosca_definitions_version: cloudify_dsl_1_0\nnode_types:\n  cloudify.nodes.Root: {}\n',
  },
  'cloudify-script-plugin': {
    'setup.py': "from setuptools import setup\n\nsetup(name='cloudify-script-plugin', version='1.3', packages=['script_runner'])\n",
    'script_runner/__init__.py': '',
    'plugin.yaml':
      "plugins:\n  script:\n    executor: central_deployment_agent\n    package_name: cloudify-script-plugin\n    package_version: '1.3'\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/1.3.zip\n",
  },
  'cloudify-ui': {
    'package.json': '{\n  "name": "cloudify-ui",\n  "version": "3.3.0",\n  "private": true\n}\n',
    'build.sh':
      '#!/bin/sh\nset -e\nmkdir -p dist\nnode -e "console.log(require(\'./package.json\').version)" > dist/VERSION\ntar czf cloudify-ui.tgz dist\n',
  },
  'cloudify-docs': {
    'docs/conf.py': "project = u'cloudify'\nversion = '3.3'\nrelease = '3.3'\n",
  },
  'cloudify-manager-blueprints': {
    'simple-manager-blueprint.yaml':
      'tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/3.3/types.yaml\n  - http://www.getcloudify.org/spec/script-plugin/1.3/plugin.yaml\ninputs:\n  ui_package_url:\n    default: http://localhost/demo-storage/org/demo/3.3.0/ga-RELEASE/cloudify-ui.tgz\n',
  },
};

/** git for sandbox repositories (the demo's, the tests'), as a fixed sandbox author. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Sandbox',
      GIT_AUTHOR_EMAIL: 'sandbox@example.com',
      GIT_COMMITTER_NAME: 'Sandbox',
      GIT_COMMITTER_EMAIL: 'sandbox@example.com',
    },
  }).trim();
}

/** Where the demo's outside systems listen (moto S3, pypiserver, the ReadTheDocs stand-in). */
export interface DemoServices {
  s3Endpoint: string;
  pypiUrl: string;
  readthedocsApi: string;
  /** Mailpit's SMTP port on 127.0.0.1. */
  smtpPort: number;
}

/** The variables the demo's manifest names; the demo's workers get them. */
export const DEMO_ENV = { DEMO_AWS_KEY: 'demo-access-key', DEMO_AWS_SECRET: 'demo-secret-key', DEMO_RTD_TOKEN: 'demo-readthedocs-token' };

function releaseSections(root: string, services: DemoServices): Partial<ManifestInput> {
  return {
    artifacts: [{ name: 'cloudify-ui', repository: 'cloudify-ui', command: './build.sh', outputs: ['cloudify-ui.tgz'] }],
    storage: {
      bucket: 'demo-releases',
      endpoint: services.s3Endpoint,
      accessKeyIdEnv: 'DEMO_AWS_KEY',
      secretAccessKeyEnv: 'DEMO_AWS_SECRET',
      md5: true,
      mirrors: [{ type: 'directory', name: 'tarzan', path: join(root, 'mirror') }],
    },
    systemTests: {
      command: 'test -s "$RELFLOW_ARTIFACTS_MANIFEST" && printf \'<testsuite tests="3" failures="0" skipped="0"></testsuite>\' > junit.xml',
      junit: 'junit.xml',
    },
    gates: { pypi: { approvers: ['release-engineer'] }, docs: {} },
    pypi: { repositoryUrl: services.pypiUrl },
    readthedocs: { apiUrl: `${services.readthedocsApi}/api/v3`, tokenEnv: 'DEMO_RTD_TOKEN' },
    notifications: {
      email: { from: 'relflow@example.com', to: ['release-team@example.com'], smtp: { host: '127.0.0.1', port: services.smtpPort } },
    },
  };
}

/**
 * Creates the sandbox remotes once (a second demo reuses them) and writes the
 * manifest, with the release sections when the services are given. Returns its path.
 */
export function createDemoProduct(root: string, services?: DemoServices): string {
  const remotes = join(root, 'remotes');
  for (const [name, files] of Object.entries(REPOSITORIES)) {
    const bare = join(remotes, `${name}.git`);
    if (existsSync(join(bare, 'HEAD'))) continue;
    const work = join(root, 'seed', name);
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    git(work, 'init', '-q', '-b', 'master');
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(work, path)), { recursive: true });
      writeFileSync(join(work, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
    }
    git(work, 'add', '-A');
    git(work, 'commit', '-q', '-m', `${name}: initial import`);
    mkdirSync(remotes, { recursive: true });
    git(root, 'clone', '-q', '--bare', work, bare);
    rmSync(work, { recursive: true, force: true });
  }
  const manifest: ManifestInput = {
    product: 'demo',
    versions: { core: '3.5', plugins: '1.5' },
    git: { author: { name: 'relflow demo', email: 'demo@example.com' }, parallelism: 4 },
    repositories: Object.keys(REPOSITORIES).map((name) => ({
      name,
      url: join(remotes, `${name}.git`),
      ...(name.includes('plugin') ? { stream: 'plugins' as const, pluginYaml: 'plugin.yaml' } : {}),
      ...(name === 'cloudify-ui' ? { versionRules: [{ preset: 'package.json' as const, required: true }] } : {}),
      ...(services && (name === 'cloudify-rest-client' || name === 'cloudify-dsl-parser') ? { pypi: true } : {}),
      ...(services && name === 'cloudify-docs' ? { readthedocs: 'cloudify-docs' } : {}),
      ...(name === 'cloudify-manager' ? { typesYaml: 'resources/rest-service/cloudify/types/types.yaml' } : {}),
    })),
    versionRules: [
      { preset: 'setup.py' },
      { preset: '__version__' },
      { preset: 'plugin.yaml' },
      { preset: 'types.yaml' },
      { preset: 'sphinx-conf.py' },
      { preset: 'blueprint' },
    ],
    ...(services ? releaseSections(root, services) : {}),
  };
  const file = join(root, 'relflow.yaml');
  writeFileSync(file, `# The demo product's release manifest (written by relflow demo).\n${stringify(manifest)}`);
  return file;
}

/** The next GA of the demo: one minor above the newest GA tag of its remotes, core 3.N with plugins 1.N. */
export function nextDemoGaVersion(root: string): { version: string; pluginsVersion: string } {
  const tags = git(join(root, 'remotes', 'cloudify-rest-client.git'), 'tag', '--list')
    .split('\n')
    .filter((tag) => /^3\.\d+$/.test(tag))
    .map((tag) => Number(tag.split('.')[1]));
  const minor = tags.length ? Math.max(...tags) + 1 : 4;
  return { version: `3.${minor}`, pluginsVersion: `1.${minor}` };
}
