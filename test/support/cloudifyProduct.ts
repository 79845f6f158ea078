import type { ManifestInput } from '../../src/config/manifest';
import { createRemote } from './gitRepos';

/** The values a version pass writes into the synthetic product's files. */
export interface ProductLines {
  /** Python forms of the core and plugins streams. */
  py: string;
  pluginsPy: string;
  /** Tag (or patch branch) of the core and plugins repositories. */
  ref: string;
  pluginsRef: string;
  /** yaml forms. */
  yaml: string;
  pluginsYaml: string;
  /** VERSION-file form of the core. */
  versionFile: string;
  /** Directory URL of the release's stored files. */
  releaseUrl: string;
  /** The same, as a blueprint wrote it on the storage's former host before the release (the release's own URL after it). */
  formerHostUrl: string;
  /** The version in a stored package's file name (3.3.0-m4-b274). */
  packageFile: string;
  /** What the team's own rule writes, in milestones, GAs and patches only (the Python form; nightlies keep the old one). */
  released: string;
  /** A provisioning script's VERSION, PRERELEASE and BUILD (milestones, GAs and patches only). */
  shell: { version: string; prerelease: string; build: string; coreTag: string; pluginsTag: string };
}

export const STORAGE_URL = 'http://repository.cloudifysource.org';
/** Where the stored files were downloaded from before (storage.formerPublicUrls). */
export const FORMER_STORAGE_URL = 'http://gigaspaces-repository-eu.s3.amazonaws.com';

/** What the repositories hold before any release: the 3.2 / 1.2 release, references to master. */
export const BEFORE: ProductLines = {
  py: '3.2',
  pluginsPy: '1.2',
  ref: 'master',
  pluginsRef: 'master',
  yaml: '3.2',
  pluginsYaml: '1.2',
  versionFile: '3.2.0',
  releaseUrl: `${STORAGE_URL}/org/cloudify3/3.2.0/ga-RELEASE/`,
  formerHostUrl: `${FORMER_STORAGE_URL}/org/cloudify3/3.2.0/ga-RELEASE/`,
  packageFile: '3.2.0-ga-b200',
  released: '3.2',
  shell: { version: '3.2.0', prerelease: 'ga', build: '200', coreTag: '3.2', pluginsTag: '1.2' },
};

/** The fabric plugin's plugin.yaml: in its own repository, and held by the manager (which must give it the plugin's ref). */
const fabricPluginYaml = (v: ProductLines) =>
  `plugins:\n  fabric:\n    executor: central_deployment_agent\n    package_name: cloudify-fabric-plugin\n` +
  `    package_version: '${v.pluginsYaml}'\n    source: https://github.com/cloudify-cosmo/cloudify-fabric-plugin/archive/${v.pluginsRef}.zip\n`;

const LATIN1_COMMENT = '# Auteur: Ren\xe9 Dup\xe9 <rene@example.com>\n';

/**
 * A product shaped like Cloudify's repositories: core repositories with setup.py
 * pins and requirements files, a plugin repository with plugin.yaml and VERSION,
 * a blueprints repository, a system-tests repository, .travis.yml files. Each
 * file is a function of the version lines, so a test states every line a
 * release must write. setup.py of the rest client is latin-1.
 */
export function productFiles(v: ProductLines): Record<string, Record<string, string>> {
  return {
    'cloudify-rest-client': {
      'setup.py':
        `# -*- coding: latin-1 -*-\n${LATIN1_COMMENT}from setuptools import setup\n\n` +
        `setup(\n    name='cloudify-rest-client',\n    version='${v.py}',\n    install_requires=['requests==2.7.0'],\n)\n`,
      VERSION: `{\n  "version": "${v.versionFile}",\n  "build": "200"\n}\n`,
      'cloudify_rest_client/version_info.py': `version_info = '${v.py}'\n`,
    },
    'cloudify-dsl-parser': {
      'setup.py':
        `from setuptools import setup\n\nsetup(\n    name='cloudify-dsl-parser',\n    version='${v.py}',\n` +
        `    install_requires=['PyYAML==3.10', 'networkx==1.8.1'],\n)\n`,
      // A constant named VERSION that is the name of a blueprint key, not a version: never rewritten.
      'dsl_parser/version.py': "VERSION = 'tosca_definitions_version'\nBASE_VERSION = 'cloudify_dsl_1_0'\n",
      VERSION: `{\n  "version": "${v.versionFile}"\n}\n`,
    },
    'cloudify-plugins-common': {
      'setup.py':
        `from setuptools import setup\n\nsetup(\n    name='cloudify-plugins-common',\n    version='${v.py}',\n    install_requires=[\n` +
        `        'cloudify-rest-client==${v.py}',\n        'cloudify-dsl-parser>=${v.py},<4',\n        'pika==0.9.14',\n    ],\n)\n`,
      'dev-requirements.txt':
        `-e git+https://github.com/cloudify-cosmo/cloudify-rest-client@${v.ref}#egg=cloudify-rest-client==${v.py}\n` +
        `https://github.com/cloudify-cosmo/cloudify-dsl-parser/archive/${v.ref}.zip\nnose==1.3.7\n`,
      '.travis.yml':
        `language: python\ninstall:\n  - pip install https://github.com/cloudify-cosmo/cloudify-rest-client/archive/${v.ref}.zip\n` +
        `  - pip install https://github.com/pallets/flask/archive/1.0.zip\nscript: nosetests\n`,
      VERSION: `{\n  "version": "${v.versionFile}"\n}\n`,
    },
    'cloudify-manager': {
      // cloudify-diamond-plugin is released elsewhere, on the plugins stream (the manifest's siblings).
      'requirements.txt': `cloudify-plugins-common==${v.py}\ncloudify-script-plugin==${v.pluginsPy}\ncloudify-diamond-plugin==${v.pluginsPy}\nflask==0.10.1\n`,
      'resources/rest-service/cloudify/types/types.yaml':
        'tosca_definitions_version: cloudify_dsl_1_0\nnode_types:\n  cloudify.nodes.Root: {}\n',
      // A team rule of the old tool, not safe for nightlies: it runs for milestones, GAs and patches (kinds).
      'packaging/release.py': `RELEASE = '${v.released}'\n`,
      // Resources that import an older types.yaml on purpose: excluded from the preset by path.
      'tests/resources/dsl/old/blueprint_3_1.yaml':
        'tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/3.1/types.yaml\n',
      // Filled in at packaging: the placeholder is no version.
      'packaging/manager-blueprint.yaml':
        'tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/CORE_TAG_NAME/types.yaml\n',
      // A parser test resource that is not valid YAML on purpose.
      'tests/resources/dsl/invalid_yaml.yaml':
        `tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/${v.yaml}/types.yaml\n` +
        'node_templates: [unclosed\n',
      // A plugin.yaml in a core repository that points at a plugin: the plugin's ref, not the manager's.
      'plugins/fabric/plugin.yaml': fabricPluginYaml(v),
      'tests/resources/blueprint.yaml':
        `tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/${v.yaml}/types.yaml\n` +
        `  - http://www.getcloudify.org/spec/script-plugin/${v.pluginsYaml}/plugin.yaml\n`,
      VERSION: `{\n  "version": "${v.versionFile}"\n}\n`,
    },
    'cloudify-script-plugin': {
      'setup.py':
        `from setuptools import setup\n\nsetup(\n    name='cloudify-script-plugin',\n    version='${v.pluginsPy}',\n` +
        `    install_requires=['cloudify-plugins-common>=${v.py}'],\n)\n`,
      'plugin.yaml':
        `plugins:\n  script:\n    executor: central_deployment_agent\n    package_name: cloudify-script-plugin\n` +
        `    package_version: '${v.pluginsYaml}'\n    source: https://github.com/cloudify-cosmo/cloudify-script-plugin/archive/${v.pluginsRef}.zip\n`,
      VERSION: `{\n  "version": "${v.versionFile}"\n}\n`,
      '.travis.yml': `language: python\ninstall:\n  - pip install git+https://github.com/cloudify-cosmo/cloudify-plugins-common@${v.ref}\n`,
    },
    // The CLI's package is named `cloudify`, not after its repository; the agent packager has a version stream of its own.
    'cloudify-cli': {
      'setup.py':
        `from setuptools import setup\n\nsetup(\n    name='cloudify',\n    version='${v.py}',\n    install_requires=[\n` +
        `        'cloudify-rest-client==${v.py}',\n        'cloudify-dsl-parser==${v.py}',\n` +
        `        'cloudify-agent-packager==3.5.2',\n        'cloudify-script-plugin==${v.pluginsPy}',\n    ],\n)\n`,
      VERSION: `{\n  "version": "${v.versionFile}"\n}\n`,
    },
    'cloudify-manager-blueprints': {
      'aws-ec2-manager-blueprint.yaml':
        `tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/${v.yaml}/types.yaml\n` +
        `  - http://www.getcloudify.org/spec/fabric-plugin/${v.pluginsYaml}/plugin.yaml\ninputs:\n  ui_package_url:\n` +
        `    default: ${v.releaseUrl}cloudify-ui_${v.packageFile}_amd64.deb\n  other_url:\n    default: http://example.com/keep/3.2.0/this.tgz\n`,
      // Another blueprint name, a URL on the storage's former host, a sibling's archive as a default, a dsl_resources pair.
      'openstack.yaml':
        `tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/${v.yaml}/types.yaml\ninputs:\n` +
        `  rest_service_package_url:\n    default: ${v.formerHostUrl}cloudify-rest-service_${v.packageFile}_amd64.deb\n` +
        `  manager_resources_url:\n    default: https://github.com/cloudify-cosmo/cloudify-manager/archive/${v.ref}.tar.gz\n` +
        `  dsl_resources:\n    default:\n      - {'source_path': 'http://www.getcloudify.org/spec/fabric-plugin/${v.pluginsYaml}/plugin.yaml', ` +
        `'destination_path': '/spec/fabric-plugin/${v.pluginsYaml}/plugin.yaml'}\n`,
    },
    'cloudify-hello-world-example': {
      // A blueprint not named *blueprint.yaml, a raw URL of a sibling's file as an input's default.
      'simple.yaml':
        `tosca_definitions_version: cloudify_dsl_1_0\nimports:\n  - http://www.getcloudify.org/spec/cloudify/${v.yaml}/types.yaml\n` +
        `inputs:\n  types_url:\n    default: https://raw.githubusercontent.com/cloudify-cosmo/cloudify-manager/${v.ref}/resources/rest-service/cloudify/types/types.yaml\n`,
    },
    // The packager's provisioning script, as Cloudify's build machines ran it.
    'cloudify-packager': {
      'vagrant/agents/provision.sh':
        `#!/bin/bash -e\nexport VERSION="${v.shell.version}"\nexport PRERELEASE="${v.shell.prerelease}"\nexport BUILD="${v.shell.build}"\n` +
        `CORE_TAG_NAME="${v.shell.coreTag}"\nPLUGINS_TAG_NAME=${v.shell.pluginsTag}\nexport VERSIONED=1\n` +
        'echo "building ${VERSION}-${PRERELEASE}-b${BUILD}"\n',
      // A packaging manifest: one version key per package.
      'packages.yaml':
        `packages:\n  - name: cloudify-manager\n    version: "${v.versionFile}"\n  - name: cloudify-ui\n    version: ${v.versionFile}\n` +
        `  - name: nginx\n    source: http://nginx.org/download/nginx-1.8.0.tar.gz\n`,
      // Package sources as a Python dictionary.
      'vars.py':
        `PACKAGES = {\n    "cloudify_rest_client": "git+git://github.com/cloudify-cosmo/cloudify-rest-client.git@${v.ref}",\n` +
        `    "cloudify_manager": "-b ${v.ref} https://github.com/cloudify-cosmo/cloudify-manager.git",\n` +
        `    "cloudify_script_plugin": "git+https://github.com/cloudify-cosmo/cloudify-script-plugin@${v.pluginsRef}",\n` +
        `    "flask": "git+https://github.com/pallets/flask.git@1.0",\n}\n`,
      version_info: `export CLOUDIFY_VERSION='${v.shell.version}'\nexport CLOUDIFY_PACKAGE_RELEASE='0.1'\n`,
    },
    'cloudify-agent': {
      'setup.py': `from setuptools import setup\n\nsetup(\n    name='cloudify-agent',\n    version='${v.py}',\n)\n`,
      // The unquoted form of version_info.
      'packaging/version_info': `CLOUDIFY_VERSION=${v.shell.version}\nCLOUDIFY_PACKAGE_RELEASE=ga\n`,
    },
    'cloudify-fabric-plugin': {
      'setup.py':
        `from setuptools import setup\n\nsetup(\n    name='cloudify-fabric-plugin',\n    version='${v.pluginsPy}',\n` +
        `    install_requires=['cloudify-plugins-common>=${v.py}'],\n)\n`,
      'plugin.yaml': fabricPluginYaml(v),
    },
    'cloudify-system-tests': {
      'setup.py':
        `from setuptools import setup\n\nsetup(\n    name='cloudify-system-tests',\n    version='${v.py}',\n` +
        `    install_requires=['cloudify==${v.py}', 'cloudify-agent-packager==3.5.2', 'fabric==1.8.3'],\n)\n`,
      // YAML 1.1 as PyYAML reads it: anchors, aliases, a merge key given twice in one mapping.
      'suites/suites.yaml':
        `variables:\n  core_branch: ${v.ref}\n  plugins_branch: ${v.pluginsRef}\n  BRANCH_NAME_PLUGINS: ${v.pluginsRef}\n` +
        '  # injected by the build system\n  system_tests_branch: _\n' +
        `handler_defaults: &handler_defaults\n  handler: openstack_handler\n  inputs: &inputs\n    image: ubuntu-14.04\n` +
        `openstack_region: &region\n  region: RegionOne\n` +
        `suites:\n  - https://github.com/cloudify-cosmo/cloudify-manager-blueprints/archive/${v.ref}.tar.gz\n` +
        `test_suites:\n  nodecellar_openstack:\n    <<: *handler_defaults\n    <<: *region\n    tests: [nodecellar_test]\n` +
        `  hello_world:\n    <<: [*handler_defaults, *region]\n    inputs: *inputs\n`,
      'suites/packages.yaml':
        `packages:\n  cli: ${v.releaseUrl}cloudify-cli_${v.packageFile}_amd64.deb\n` +
        `  tester: git+https://github.com/cloudify-cosmo/cloudify-system-tests.git@${v.ref}\n`,
    },
  };
}

export const PRODUCT_REPOSITORIES = Object.keys(productFiles(BEFORE));

/** The bytes a file is written with: the rest client's setup.py is latin-1, the rest UTF-8. */
export function fileBytes(repository: string, path: string, content: string): Buffer {
  return Buffer.from(content, repository === 'cloudify-rest-client' && path === 'setup.py' ? 'latin1' : 'utf8');
}

/** Real remotes of the product at its 3.2 state, with the patch branches `3.3-patch1`, `3.3.1-build` and `1.3.1-build` on each. */
export function createProductRemotes(root: string): Record<string, string> {
  const files = productFiles(BEFORE);
  return Object.fromEntries(
    PRODUCT_REPOSITORIES.map((name) => [
      name,
      createRemote(root, {
        name,
        files: Object.fromEntries(Object.entries(files[name]).map(([path, content]) => [path, fileBytes(name, path, content)])),
        // The patch branch of the flow document, and the service pack's build branches of a tagged patch.
        branches: Object.fromEntries(['3.3-patch1', '3.3.1-build', '1.3.1-build'].map((branch) => [branch, { 'PATCH-NOTES': 'a fix\n' }])),
      }),
    ]),
  );
}

export function productManifest(remotes: Record<string, string>): ManifestInput {
  return {
    product: 'cloudify',
    versions: { core: '3.3', plugins: '1.3' },
    repositories: PRODUCT_REPOSITORIES.map((name) => ({
      name,
      url: remotes[name],
      stream: name.endsWith('-plugin') ? 'plugins' : 'core',
    })),
    storage: {
      bucket: 'gigaspaces-repository-eu',
      publicUrl: STORAGE_URL,
      formerPublicUrls: [FORMER_STORAGE_URL],
      // Cloudify's own layout: the product directory cloudify3, service packs under sp-RELEASE.
      layout: 'org/cloudify3/{{ version_version_base }}/{{ package_prerelease }}-RELEASE/{{ file }}',
    },
    versionRules: [
      { preset: 'cloudify', required: false, excluded: ['tests/resources/dsl/old/.*'] },
      {
        description: 'packaging release (not nightly-safe)',
        type: '^release\\.py$',
        match: "RELEASE = '[^']*'",
        replace: '\\d+\\.\\d+(?:\\.\\d+)?(?:(?:a|rc)\\d+)?',
        with: '{{ python_version }}',
        kinds: ['milestone', 'ga', 'patch'],
      },
    ],
    siblings: [{ name: 'cloudify-diamond-plugin', stream: 'plugins' }],
  };
}
