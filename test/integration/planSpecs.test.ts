import { strict as assert } from 'node:assert';
import { runCli } from '../support/cli';
import { createRemote } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { tempDir } from '../support/temporal';

describe('spec files are stored where the rewritten imports point (storage.specLayout), and plan shows both', function () {
  it('types.yaml and plugin.yaml go to spec/<name>/<version>/, next to the imports of the blueprint; an import elsewhere is a warning', function () {
    const root = tempDir('plan-specs');
    const blueprint = [
      'imports:',
      '  - https://get.example.com/spec/cloudify/3.3/types.yaml',
      '  - https://get.example.com/spec/script-plugin/1.3/plugin.yaml',
      '  - http://www.getcloudify.org/spec/cloudify/3.3/types.yaml',
      '',
    ].join('\n');
    const config = writeManifest(root, {
      product: 'cloudify',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [
        {
          name: 'cloudify-manager',
          url: createRemote(root, { name: 'cloudify-manager', files: { 'types/types.yaml': 'node_types: {}\n' } }),
          typesYaml: 'types/types.yaml',
        },
        {
          name: 'cloudify-script-plugin',
          stream: 'plugins',
          url: createRemote(root, { name: 'cloudify-script-plugin', files: { 'plugin.yaml': 'plugins: {}\n' } }),
          pluginYaml: 'plugin.yaml',
        },
        {
          name: 'cloudify-manager-blueprints',
          url: createRemote(root, { name: 'cloudify-manager-blueprints', files: { 'aws-blueprint.yaml': blueprint } }),
        },
      ],
      versionRules: [{ preset: 'types.yaml' }],
      storage: { bucket: 'releases', publicUrl: 'https://get.example.com' },
    });
    const result = runCli(['plan', 'ga', '--version', '3.4', '-c', config]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /cloudify-manager:types\/types\.yaml -> https:\/\/get\.example\.com\/spec\/cloudify\/3\.4\/types\.yaml\n\s+imported by cloudify-manager-blueprints:aws-blueprint\.yaml/,
    );
    assert.match(
      result.stdout,
      /cloudify-script-plugin:plugin\.yaml -> https:\/\/get\.example\.com\/spec\/script-plugin\/1\.4\/plugin\.yaml\n\s+imported by cloudify-manager-blueprints:aws-blueprint\.yaml/,
    );
    assert.match(
      result.stdout,
      /warning: cloudify-manager-blueprints:aws-blueprint\.yaml imports http:\/\/www\.getcloudify\.org\/spec\/cloudify\/3\.4\/types\.yaml, but cloudify-manager's types\.yaml is stored at https:\/\/get\.example\.com\/spec\/cloudify\/3\.4\/types\.yaml/,
    );
    const json = JSON.parse(runCli(['plan', 'ga', '--version', '3.4', '-c', config, '--json']).stdout) as { specs: { key: string }[] };
    assert.deepEqual(
      json.specs.map((spec) => spec.key),
      ['spec/cloudify/3.4/types.yaml', 'spec/script-plugin/1.4/plugin.yaml'],
    );
  });
});
