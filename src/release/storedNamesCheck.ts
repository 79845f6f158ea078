import type { Manifest } from '../config/manifest';
import { CONTROL_CHARACTERS } from './decisions';
import { isMachineOutputPattern } from '../config/names';
import { specPlacements, storageKey } from './plan';
import { samplePlans } from './ruleCheck';

/** Why a rendered key cannot be stored, or undefined: a mirror directory takes each '/' part as a directory. */
function keyProblem(key: string): string | undefined {
  if (key.startsWith('/')) return 'starts with /';
  if (CONTROL_CHARACTERS.test(key)) return 'holds a control character';
  const part = key.split('/').find((segment) => segment === '..' || segment === '.');
  return part ? `has a '${part}' part (a mirror would take it as a directory step out of the release's)` : undefined;
}

/**
 * Where the release's files would be stored and what the builds would leave,
 * checked before anything is pushed (validate, plan, the preflight): each
 * layout rendered for one release of every kind, and the artifacts' outputs
 * as their builders take them. What only a build can show (a glob that
 * matches two files of one name, an output that is a link) stays the
 * artifacts stage's.
 */
export function storedNameProblems(manifest: Manifest): string[] {
  const problems = new Map<string, string>();
  if (manifest.storage) {
    for (const { sample, plan } of samplePlans(manifest)) {
      const field = plan.kind === 'nightly' ? 'storage.nightlyLayout' : 'storage.layout';
      const rendered: [string, string][] = [
        [field, storageKey(plan, manifest, 'file.tgz')],
        ...specPlacements(plan, manifest).map((placement): [string, string] => ['storage.specLayout', placement.key]),
      ];
      for (const [where, key] of rendered) {
        const problem = keyProblem(key);
        if (problem && !problems.has(where)) {
          problems.set(
            where,
            `${where}: renders to '${key.replace(new RegExp(CONTROL_CHARACTERS, 'g'), '?')}' for ${sample.label}, which ${problem}`,
          );
        }
      }
    }
  }
  for (const artifact of manifest.artifacts) {
    const where = `artifacts.${artifact.name}.outputs`;
    if (artifact.builder !== 'local') {
      for (const pattern of artifact.outputs.filter((output) => !isMachineOutputPattern(output))) {
        problems.set(
          `${where}:${pattern}`,
          `${where}: '${pattern}' may only use letters, digits, . _ / - * ? with builder ${artifact.builder} (the build machine's shell reads it)`,
        );
      }
    }
    // Outputs are stored by their file name: two named files of one name would take one key.
    const byName = new Map<string, string>();
    for (const output of artifact.outputs.filter((pattern) => !/[*?[]/.test(pattern))) {
      const file = output.slice(output.lastIndexOf('/') + 1);
      const other = byName.get(file);
      if (other && other !== output) {
        problems.set(`${where}:${file}`, `${where}: ${other} and ${output} would be stored under the same name ${file}; keep one of them`);
      }
      byName.set(file, output);
    }
  }
  return [...problems.values()];
}
