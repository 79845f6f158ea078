import type { Manifest } from '../config/manifest';
import type { TemplateValues } from './template';
import { escapeRegex, type ConcreteRule } from './versionRules';

/**
 * The release's siblings of a stream as a regular expression over names: its
 * repositories of that stream, the packages their setup.py declares
 * (`packages`, read at checkout; `package` in the manifest), and the manifest's
 * `siblings`. `-` and `_` are one (pip treats them alike). Nothing matches when
 * a stream has none.
 */
export function siblingPattern(
  manifest: Pick<Manifest, 'repositories'> & { siblings?: Manifest['siblings'] },
  stream: 'core' | 'plugins',
  what: 'packages' | 'repositories',
  packages: Readonly<Record<string, string>> = {},
): string {
  const names = new Set<string>();
  for (const repository of manifest.repositories) {
    if (repository.stream !== stream) continue;
    names.add(repository.name);
    if (what === 'packages') {
      const declared = repository.package ?? packages[repository.name];
      if (declared) names.add(declared);
    }
  }
  // A release started before `siblings` existed carries a manifest without it.
  for (const sibling of manifest.siblings ?? []) if (sibling.stream === stream) names.add(sibling.name);
  if (names.size === 0) return '(?!)';
  const alternatives = [...names]
    .sort((a, b) => b.length - a.length || a.localeCompare(b))
    .map((name) => escapeRegex(name).replace(/[-_]/g, '[-_]'));
  // A whole name: not the start of a longer one (cloudify of cloudify-agent-packager).
  return `(?:${alternatives.join('|')})(?![A-Za-z0-9_-]*[A-Za-z0-9_])`;
}

/**
 * The distribution name a setup.py declares (`setup(name='cloudify', ...)`),
 * read without running it; undefined when it names none literally.
 */
export function declaredPackage(setupPy: string): string | undefined {
  const match = /\bsetup\s*\([^]*?\bname\s*=\s*['"]([A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?)['"]/.exec(setupPy);
  return match?.[1];
}

/** The packages the checkout read from each repository's setup.py, by repository. */
export function declaredPackages(repositories: readonly { name: string; packageName?: string }[]): Record<string, string> {
  return Object.fromEntries(
    repositories.flatMap((repository) => (repository.packageName ? [[repository.name, repository.packageName]] : [])),
  );
}

const SIBLING_VALUES = ['core_siblings', 'plugins_siblings', 'core_sibling_repositories', 'plugins_sibling_repositories'] as const;

export type SiblingValues = Record<(typeof SIBLING_VALUES)[number], string>;

/**
 * The four sibling template values, the same for every repository of a
 * release: computed once per stage or plan, not once per repository.
 */
export function siblingValues(
  manifest: Pick<Manifest, 'repositories'> & { siblings?: Manifest['siblings'] },
  packages: Readonly<Record<string, string>> = {},
): SiblingValues {
  return {
    core_siblings: siblingPattern(manifest, 'core', 'packages', packages),
    plugins_siblings: siblingPattern(manifest, 'plugins', 'packages', packages),
    core_sibling_repositories: siblingPattern(manifest, 'core', 'repositories'),
    plugins_sibling_repositories: siblingPattern(manifest, 'plugins', 'repositories'),
  };
}

/**
 * The values an activity needs for these rules: the sibling patterns (every
 * release repository's name, in each repository's input) only when a rule
 * uses them, so a release of many repositories with rules that name no
 * sibling does not carry them in every activity's history.
 */
export function rulesAndValues<Rule extends Pick<ConcreteRule, 'match' | 'replace' | 'with'>>(
  rules: Rule[],
  values: TemplateValues,
): { rules: Rule[]; values: TemplateValues } {
  const used = (name: string) => rules.some((rule) => [rule.match, rule.replace, rule.with].some((field) => field.includes(name)));
  const unused = SIBLING_VALUES.filter((name) => !used(name));
  return { rules, values: Object.fromEntries(Object.entries(values).filter(([name]) => !(unused as readonly string[]).includes(name))) };
}
