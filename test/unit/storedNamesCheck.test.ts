import { strict as assert } from 'node:assert';
import type { ManifestInput } from '../../src/config/manifest';
import { storedNameProblems } from '../../src/release/storedNamesCheck';
import { manifestOf } from '../support/manifests';

const product: ManifestInput = {
  product: 'cloudify',
  versions: { core: '3.4', plugins: '1.4' },
  repositories: [
    { name: 'cloudify-manager', url: '/srv/manager.git' },
    { name: 'cloudify-script-plugin', url: '/srv/script.git', stream: 'plugins', pluginYaml: 'plugin.yaml' },
  ],
  storage: { bucket: 'gigaspaces-repository-eu' },
  artifacts: [{ name: 'agents', repository: 'cloudify-manager', command: 'make', outputs: ['dist/*.tar.gz', 'centos/agent.tar.gz'] }],
};

describe('stored names: where a release would store its files, checked before anything is pushed', function () {
  it('takes the default layouts, Cloudify-era layouts and globs that may match many files', function () {
    assert.deepEqual(storedNameProblems(manifestOf(product)), []);
    const cloudify = manifestOf({
      ...product,
      storage: {
        bucket: 'gigaspaces-repository-eu',
        layout: 'org/{{ product }}/{{ version_version_base }}/{{ release_dir }}/{{ file }}',
        specLayout: 'spec/{{ spec_name }}/{{ yaml_version }}/{{ file }}',
      },
    });
    assert.deepEqual(storedNameProblems(cloudify), []);
  });

  it("names a layout whose key leaves the release's directory for one release of a kind, once per field", function () {
    const problems = storedNameProblems(
      manifestOf({
        ...product,
        storage: {
          bucket: 'gigaspaces-repository-eu',
          layout: 'org/{{ product }}/../../{{ file }}',
          nightlyLayout: '/nightly/{{ file }}',
          specLayout: 'spec/./{{ spec_name }}/{{ file }}',
        },
      }),
    );
    assert.deepEqual(problems, [
      "storage.nightlyLayout: renders to '/nightly/file.tgz' for a nightly, which starts with /",
      "storage.specLayout: renders to 'spec/./script-plugin/plugin.yaml' for a nightly, which has a '.' part (a mirror would take it as a directory step out of the release's)",
      "storage.layout: renders to 'org/cloudify/../../file.tgz' for a milestone, which has a '..' part (a mirror would take it as a directory step out of the release's)",
    ]);
  });

  it("names a machine build's output the shell would read, and two named outputs of one file name", function () {
    const problems = storedNameProblems(
      manifestOf({
        ...product,
        artifacts: [
          {
            name: 'agents',
            repository: 'cloudify-manager',
            builder: 'ec2',
            ec2: { imageId: 'ami-12345678', instanceType: 't3.small' },
            command: 'make',
            outputs: ['alpha.tgz;touch x', 'dist/$(id).deb', 'centos/agent.tar.gz', 'ubuntu/agent.tar.gz', 'dist/*.tar.gz'],
          },
          // A local build's outputs are matched in the worker, never by a shell: any printable name is taken.
          { name: 'ui', repository: 'cloudify-manager', command: 'make', outputs: ['dist/ui (1).tgz'] },
        ],
      }),
    );
    assert.deepEqual(problems, [
      "artifacts.agents.outputs: 'alpha.tgz;touch x' may only use letters, digits, . _ / - * ? with builder ec2 (the build machine's shell reads it)",
      "artifacts.agents.outputs: 'dist/$(id).deb' may only use letters, digits, . _ / - * ? with builder ec2 (the build machine's shell reads it)",
      'artifacts.agents.outputs: centos/agent.tar.gz and ubuntu/agent.tar.gz would be stored under the same name agent.tar.gz; keep one of them',
    ]);
  });
});
