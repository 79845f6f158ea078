import { strict as assert } from 'node:assert';
import { UserError } from '../../src/config/errors';
import type { ManifestInput } from '../../src/config/manifest';
import { buildReleasePlan, untaggedReason } from '../../src/release/plan';
import { parseReleaseVersion, pluginsVersion, ReleaseKind, versionForms } from '../../src/release/version';
import { manifestOf } from '../support/manifests';

describe('release versions and naming (src/release)', function () {
  describe('parseReleaseVersion refuses invalid input with a valid example', function () {
    const invalid: [ReleaseKind, string, RegExp][] = [
      ['milestone', '3.4m', /invalid milestone version '3\.4m': a milestone needs its number: write 3\.4m1/],
      // Forms Cloudify used: refused with the accepted spelling.
      ['milestone', '3.2rc', /invalid milestone version '3\.2rc': a candidate needs its number: write 3\.2rc1/],
      ['milestone', '3.3.0m7', /invalid milestone version '3\.3\.0m7': write 3\.3m7: a milestone version has no patch number/],
      ['ga', '3.3.0', /invalid ga version '3\.3\.0': write 3\.3: a ga version has no patch number/],
      ['patch', '3.3.1rc', /a candidate needs its number: write 3\.3\.1rc1/],
      ['ga', 'v3', /invalid ga version 'v3': expected e\.g\. 3\.4/],
      ['patch', '3.4-patch', /invalid patch version '3\.4-patch': expected e\.g\. 3\.4\.2/],
      ['ga', '../x', /invalid ga version '\.\.\/x'/],
      ['milestone', '3.4', /expected e\.g\. 3\.4m5/],
      ['ga', '3.4m5', /expected e\.g\. 3\.4$/],
      ['patch', '3.4.0', /the patch number starts at 1/],
      ['patch', '3.4.1m0', /the milestone number starts at 1, e\.g\. 3\.4\.1m1/],
      ['patch', '3.4.1b1', /expected e\.g\. 3\.4\.2 \(or 3\.4-patch2; a patch milestone or candidate: 3\.4\.2m1, 3\.4\.2rc1\)/],
      ['milestone', '3.4m0', /the milestone number starts at 1/],
      ['nightly', '3', /invalid nightly version/],
    ];
    for (const [kind, input, message] of invalid) {
      it(`${kind} '${input}'`, function () {
        assert.throws(
          () => parseReleaseVersion(kind, input, '20261124'),
          (error: unknown) => error instanceof UserError && message.test(error.message),
        );
      });
    }
  });

  describe('version forms (DESIGN table)', function () {
    const rows: [ReleaseKind, string, string, Record<string, string>][] = [
      [
        'milestone',
        '3.2m3',
        '1.2',
        {
          yaml_core_version: '3.2m3',
          yaml_plugins_version: '1.2m3',
          python_core_version: '3.2a3',
          python_plugins_version: '1.2a3',
          version_version: '3.2.0-m3',
        },
      ],
      [
        'ga',
        '3.2',
        '1.2',
        {
          yaml_core_version: '3.2',
          yaml_plugins_version: '1.2',
          python_core_version: '3.2',
          python_plugins_version: '1.2',
          version_version: '3.2.0',
        },
      ],
      ['milestone', '3.4rc1', '1.4', { yaml_core_version: '3.4rc1', python_core_version: '3.4rc1', version_version: '3.4.0-rc1' }],
      [
        'patch',
        '3.4.2',
        '1.4.1',
        { yaml_core_version: '3.4.2', python_core_version: '3.4.2', version_version: '3.4.2', python_plugins_version: '1.4.1' },
      ],
      ['patch', '3.4-patch2', '1.4', { yaml_core_version: '3.4.2', version_version: '3.4.2' }],
      [
        'patch',
        '3.2.1m1',
        '1.2.1',
        {
          yaml_core_version: '3.2.1m1',
          python_core_version: '3.2.1a1',
          version_version: '3.2.1-m1',
          yaml_plugins_version: '1.2.1m1',
          python_plugins_version: '1.2.1a1',
        },
      ],
      ['patch', '3.2.1rc1', '1.2', { yaml_core_version: '3.2.1rc1', python_core_version: '3.2.1rc1', version_version: '3.2.1-rc1' }],
      ['patch', '4.5-patch5m4', '1.5', { yaml_core_version: '4.5.5m4', python_core_version: '4.5.5a4', version_version: '4.5.5-m4' }],
      ['milestone', '3.11m6', '1.11', { yaml_core_version: '3.11m6', python_core_version: '3.11a6', version_version: '3.11.0-m6' }],
      [
        'nightly',
        '3.5',
        '1.5',
        { yaml_core_version: '3.5dev20261124', python_core_version: '3.5.dev20261124', version_version: '3.5.0-dev20261124' },
      ],
    ];
    for (const [kind, input, plugins, expected] of rows) {
      it(`${kind} ${input}`, function () {
        const core = parseReleaseVersion(kind, input, '20261124');
        const forms = versionForms(core, pluginsVersion(plugins, core));
        for (const [name, value] of Object.entries(expected)) assert.equal(forms[name as keyof typeof forms], value, name);
      });
    }
  });

  describe('plan: branches, tags and IDs per kind', function () {
    const manifest = manifestOf({
      product: 'cloudify',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'cloudify-manager', url: '/srv/git/manager.git' },
        { name: 'cloudify-script-plugin', url: '/srv/git/script.git', stream: 'plugins' },
      ],
      storage: { bucket: 'gigaspaces-repository-eu' },
    });
    const rows: [ReleaseKind, string | undefined, Record<string, unknown>][] = [
      [
        'nightly',
        undefined,
        {
          releaseId: 'cloudify-nightly-20261124',
          branch: 'master',
          base: 'master',
          tags: ['nightly-20261124', 'nightly-20261124'],
          prefix: 'org/cloudify/nightly/20261124/',
        },
      ],
      [
        'milestone',
        '3.4m5',
        {
          releaseId: 'cloudify-3.4m5',
          branch: '3.4m5-build',
          base: 'master',
          tags: ['3.4m5', '1.5m5'],
          prefix: 'org/cloudify/3.4.0/m5-RELEASE/',
        },
      ],
      [
        'ga',
        '3.4',
        { releaseId: 'cloudify-3.4', branch: '3.4-build', base: 'master', tags: ['3.4', '1.5'], prefix: 'org/cloudify/3.4.0/ga-RELEASE/' },
      ],
      [
        'patch',
        '3.4.2',
        {
          releaseId: 'cloudify-3.4.2',
          branch: '3.4-patch2',
          base: '3.4-patch2',
          tags: [undefined, undefined],
          prefix: 'org/cloudify/3.4.2/ga-RELEASE/',
        },
      ],
      [
        'patch',
        '3.2.1m1',
        {
          releaseId: 'cloudify-3.2.1m1',
          branch: '3.2-patch1',
          base: '3.2-patch1',
          tags: ['3.2.1m1', '1.5.1m1'],
          prefix: 'org/cloudify/3.2.1/m1-RELEASE/',
        },
      ],
      [
        'patch',
        '3.2.1rc1',
        {
          releaseId: 'cloudify-3.2.1rc1',
          branch: '3.2-patch1',
          base: '3.2-patch1',
          tags: ['3.2.1rc1', '1.5.1rc1'],
          prefix: 'org/cloudify/3.2.1/rc1-RELEASE/',
        },
      ],
      [
        'milestone',
        '3.11m6',
        {
          releaseId: 'cloudify-3.11m6',
          branch: '3.11m6-build',
          base: 'master',
          tags: ['3.11m6', '1.5m6'],
          prefix: 'org/cloudify/3.11.0/m6-RELEASE/',
        },
      ],
    ];
    for (const [kind, version, expected] of rows) {
      it(`${kind} ${version ?? ''}`, function () {
        const plan = buildReleasePlan(manifest, { kind, version, date: '20261124' });
        assert.equal(plan.releaseId, expected.releaseId);
        assert.equal(plan.repositories[0].buildBranch, expected.branch);
        assert.equal(plan.repositories[0].baseBranch, expected.base);
        assert.deepEqual(
          plan.repositories.map((repository) => repository.tag),
          expected.tags,
        );
        assert.equal(plan.storagePrefix, expected.prefix);
      });
    }

    it('takes every name from the manifest templates', function () {
      const custom = manifestOf({
        product: 'acme',
        versions: { core: '2.0', plugins: '2.0' },
        naming: {
          branch: { ga: 'release/{{ major }}.{{ minor }}' },
          tag: { ga: 'v{{ .yaml_core_version }}' },
          commitMessage: 'Bump to {{ release_name }}',
        },
        repositories: [{ name: 'acme', url: '/srv/acme.git' }],
      });
      const plan = buildReleasePlan(custom, { kind: 'ga', version: '2.1' });
      assert.equal(plan.repositories[0].buildBranch, 'release/2.1');
      assert.equal(plan.repositories[0].tag, 'v2.1');
      assert.equal(plan.commitMessage, 'Bump to 2.1');
    });

    it("a plugin repository's build branch can be its own stream's (1.3-build); a patch is tagged only with naming.tag.patch", function () {
      const product = (naming?: ManifestInput['naming']) =>
        manifestOf({
          product: 'cloudify',
          versions: { core: '3.3', plugins: '1.3' },
          ...(naming ? { naming } : {}),
          repositories: [
            { name: 'cloudify-manager', url: '/srv/manager.git' },
            { name: 'cloudify-script-plugin', url: '/srv/script.git', stream: 'plugins' },
          ],
        });
      const branches = (manifest: ReturnType<typeof product>, kind: ReleaseKind, version: string) =>
        buildReleasePlan(manifest, { kind, version }).repositories.map((repository) => [repository.buildBranch, repository.tag]);
      // By default every repository's build branch is named by the core version; '{{ version }}' names a plugin's by its own stream.
      assert.deepEqual(branches(product(), 'ga', '3.3'), [
        ['3.3-build', '3.3'],
        ['3.3-build', '1.3'],
      ]);
      const ownStream = product({ branch: { milestone: '{{ version }}-build', ga: '{{ version }}-build' } });
      assert.deepEqual(branches(ownStream, 'ga', '3.3'), [
        ['3.3-build', '3.3'],
        ['1.3-build', '1.3'],
      ]);
      assert.deepEqual(branches(ownStream, 'milestone', '3.3m4'), [
        ['3.3m4-build', '3.3m4'],
        ['1.3m4-build', '1.3m4'],
      ]);
      assert.deepEqual(branches(product(), 'patch', '3.3.1'), [
        ['3.3-patch1', undefined],
        ['3.3-patch1', undefined],
      ]);
      const tagged = product({ branch: { patch: '{{ version }}-build' }, tag: { patch: '{{ version }}' } });
      assert.deepEqual(branches(tagged, 'patch', '3.3.1'), [
        ['3.3.1-build', '3.3.1'],
        ['1.3.1-build', '1.3.1'],
      ]);
      assert.equal(
        untaggedReason('patch', '3.3.1', product()),
        'patches are built from the patch branch, not tags (naming.tag.patch tags them)',
      );
      assert.equal(untaggedReason('patch', '3.3.1', tagged), undefined);
      assert.equal(untaggedReason('patch', '3.3.1m1', product()), undefined);
    });

    it('refuses a template that renders a name git would not accept', function () {
      const hostile = manifestOf({
        product: 'acme',
        versions: { core: '2.0', plugins: '2.0' },
        naming: { branch: { ga: '--upload-pack=touch /tmp/x {{ major }}' } },
        repositories: [{ name: 'acme', url: '/srv/acme.git' }],
      });
      assert.throws(
        () => buildReleasePlan(hostile, { kind: 'ga', version: '2.1' }),
        /naming\.branch\.ga: '--upload-pack=touch \/tmp\/x 2' is not a valid git branch or tag name/,
      );
    });

    it('refuses an unknown template value and names the known ones', function () {
      const bad = manifestOf({
        product: 'acme',
        versions: { core: '2.0', plugins: '2.0' },
        naming: { tag: { ga: '{{ versoin }}' } },
        repositories: [{ name: 'acme', url: '/srv/acme.git' }],
      });
      assert.throws(
        () => buildReleasePlan(bad, { kind: 'ga', version: '2.1' }),
        /naming\.tag\.ga: unknown template value \{\{ versoin \}\}; known values: .*yaml_core_version/,
      );
    });
  });
});
