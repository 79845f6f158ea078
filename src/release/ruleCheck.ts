import type { Manifest } from '../config/manifest';
import { UserError } from '../config/errors';
import { buildReleasePlan, type ReleasePlan, repositoryTemplateValues } from './plan';
import { siblingValues } from './siblings';
import type { ReleaseKind } from './version';
import { prepareRule, PRESETS, repositoryRules, ruleValues } from './versionRules';

/** One release of each kind: the dev forms of a nightly, a milestone, a candidate, a GA, a patch and its milestone. */
function sampleReleases(manifest: Manifest): { label: string; kind: ReleaseKind; version?: string }[] {
  const core = manifest.versions.core;
  return [
    { label: 'a nightly', kind: 'nightly' },
    { label: 'a milestone', kind: 'milestone', version: `${core}m1` },
    { label: 'a release candidate', kind: 'milestone', version: `${core}rc1` },
    { label: 'a GA', kind: 'ga', version: core },
    { label: 'a patch', kind: 'patch', version: `${core}.1` },
    { label: 'a patch milestone', kind: 'patch', version: `${core}.1m1` },
  ];
}

/** The plan of each sample release the manifest can make (a kind it cannot, such as a patch without a patch branch name, is left out). */
export function samplePlans(manifest: Manifest): { sample: ReturnType<typeof sampleReleases>[number]; plan: ReleasePlan }[] {
  return sampleReleases(manifest).flatMap((sample) => {
    try {
      return [{ sample, plan: buildReleasePlan(manifest, { kind: sample.kind, version: sample.version, date: '20261124' }) }];
    } catch (error) {
      if (error instanceof UserError) return [];
      throw error;
    }
  });
}

/** Lines in the shapes version rules are written for, around a value: the preset examples and common assignments, pins and URLs. */
function syntheticLines(values: readonly string[]): string[] {
  const shapes = [
    "version='{}'",
    'version="{}"',
    "version = '{}'",
    '"version": "{}"',
    'version: {}',
    "version: '{}'",
    "__version__ = '{}'",
    "VERSION = '{}'",
    'VERSION = "{}"',
    'version={}',
    'Version: {}',
    '{}',
    "'{}'",
    '"{}"',
    'name=={}',
    "'name>={}'",
    'https://github.com/org/name/archive/{}.zip',
    'git+https://github.com/org/name@{}#egg=name',
    'http://example.com/spec/name/{}/types.yaml',
    "package_version: '{}'",
  ];
  const examples = Object.values(PRESETS).flatMap((rules) => rules.flatMap((rule) => (rule.example ? [rule.example.before] : [])));
  return [...new Set([...examples, ...values.flatMap((value) => shapes.map((shape) => shape.replace('{}', value)))])];
}

/**
 * Every rule of the manifest, applied to synthetic lines in each version form,
 * must not change its own output: the check `validate` and `plan` make before any
 * repository is read, so a rule that would write 3.5.dev20261124.dev20261124
 * into master night after night is refused by name with both passes shown.
 */
export function ruleIdempotenceProblems(manifest: Manifest): string[] {
  const problems = new Map<string, string>();
  const checked = new Set<string>();
  const siblings = siblingValues(manifest);
  for (const { sample, plan } of samplePlans(manifest)) {
    for (const repository of plan.repositories) {
      const rules = repositoryRules(manifest, repository.name);
      const values = ruleValues(repositoryTemplateValues(plan, manifest, repository, siblings));
      const forms = Object.values(plan.forms);
      const lines = syntheticLines(['3.2', '1.2', '3.2.0', 'master', ...forms]);
      for (const [index, rule] of rules.entries()) {
        const prepared = prepareRule(rule, index, values);
        const key = `${prepared.where}|${sample.label}|${repository.stream}`;
        if (checked.has(key) || problems.has(prepared.where) || !prepared.appliesTo(repository.name) || !prepared.runsIn(sample.kind)) {
          continue;
        }
        checked.add(key);
        for (const line of lines) {
          const once = prepared.rewriteText(line).text;
          if (once === line) continue;
          const twice = prepared.rewriteText(once).text;
          if (twice !== once) {
            problems.set(
              prepared.where,
              `${prepared.where}: not idempotent for ${sample.label} (${plan.forms.yaml_core_version}, in ${repository.name}): ` +
                `'${line.trim()}' becomes '${once.trim()}' in the first pass and '${twice.trim()}' in a second; anchor the rule's match so it does not match its own output`,
            );
            break;
          }
        }
      }
    }
  }
  return [...problems.values()];
}
