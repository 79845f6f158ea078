import { z } from 'zod';
import { UserError } from './errors';
import { githubReleasesTarget } from './githubTarget';
import { Manifest, manifestSchema, TEMPLATE_PLACEHOLDER } from './manifest';

/** Checking a manifest that is already parsed: pure, so the workflow checks its own input with it. */

export interface ManifestProblem {
  /** `repositories[3].url`, or empty for the whole file. */
  path: string;
  message: string;
}

export class ManifestError extends UserError {
  constructor(
    readonly file: string,
    readonly problems: ManifestProblem[],
  ) {
    super(problems.map((problem) => `${file}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`).join('\n'));
    this.name = 'ManifestError';
  }
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${part}` : part), '');
}

function describeIssue(issue: z.ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      // A field that says what it needs (zod's own messages are 'Required' and 'Expected …') keeps its words.
      if (issue.message !== 'Required' && !issue.message.startsWith('Expected ')) return issue.message;
      return issue.received === 'undefined' ? `required, expected ${issue.expected}` : `expected ${issue.expected}, got ${issue.received}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `'${key}'`).join(', ')}`;
    case 'invalid_union_discriminator':
      return `expected one of ${issue.options.map((option) => `'${String(option)}'`).join(', ')}`;
    case 'invalid_enum_value':
      return `expected one of ${issue.options.map((option) => `'${String(option)}'`).join(', ')}, got '${String(issue.received)}'`;
    case 'invalid_string':
      return issue.message === 'Invalid' ? `invalid ${String(issue.validation)}` : issue.message.replace(/^Invalid /, 'expected a valid ');
    default:
      return issue.message;
  }
}

function crossChecks(manifest: Manifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const seen = new Map<string, number>();
  manifest.repositories.forEach((repository, index) => {
    const first = seen.get(repository.name);
    if (first !== undefined) {
      problems.push({ path: `repositories[${index}].name`, message: `'${repository.name}' is already the name of repositories[${first}]` });
    }
    seen.set(repository.name, index);
  });
  const artifactNames = new Set<string>();
  manifest.artifacts.forEach((artifact, index) => {
    if (artifactNames.has(artifact.name)) {
      problems.push({ path: `artifacts[${index}].name`, message: `'${artifact.name}' is used by another artifact` });
    }
    artifactNames.add(artifact.name);
    if (!seen.has(artifact.repository)) {
      problems.push({
        path: `artifacts[${index}].repository`,
        message: `'${artifact.repository}' is not a repository of this manifest; expected one of ${[...seen.keys()].join(', ')}`,
      });
    }
    if (artifact.builder === 'ec2' && !artifact.ec2) {
      problems.push({ path: `artifacts[${index}].ec2`, message: 'required with builder ec2 (imageId, instanceType)' });
    }
    if (artifact.builder === 'vagrant' && !artifact.vagrant) {
      problems.push({ path: `artifacts[${index}].vagrant`, message: 'required with builder vagrant (directory)' });
    }
  });
  if (!manifest.storage) {
    const ruleLists = [
      { field: 'versionRules', rules: manifest.versionRules },
      ...manifest.repositories.map((repository, index) => ({
        field: `repositories[${index}].versionRules`,
        rules: repository.versionRules ?? [],
      })),
    ];
    for (const { field, rules } of ruleLists) {
      rules.forEach((rule, index) => {
        if ('preset' in rule) return;
        const used = [rule.match, rule.replace, rule.with].some((template) =>
          [...template.matchAll(TEMPLATE_PLACEHOLDER)].some((placeholder) => placeholder[1] === 'build'),
        );
        if (used) {
          problems.push({
            path: `${field}[${index}]`,
            message: '{{ build }} needs storage: the build counter is kept in the release bucket (.relflow/build-numbers/<product>.json)',
          });
        }
      });
    }
  }
  if (manifest.artifacts.length > 0 && !manifest.storage) {
    problems.push({ path: 'storage', message: 'required when the manifest has artifacts (where they are uploaded)' });
  }
  if (manifest.repositories.some((repository) => repository.pypi !== false) && !manifest.pypi) {
    problems.push({ path: 'pypi', message: 'required when a repository is published to PyPI (repositoryUrl)' });
  }
  if (manifest.repositories.some((repository) => repository.readthedocs) && !manifest.readthedocs) {
    problems.push({ path: 'readthedocs', message: 'required when a repository names a ReadTheDocs project (tokenEnv)' });
  }
  if (manifest.github.releases) {
    const target = githubReleasesTarget(manifest);
    if (!target.owner)
      problems.push({ path: 'github.owner', message: 'required with github.releases: true (or ci.provider github with its owner)' });
    if (!target.tokenEnv)
      problems.push({
        path: 'github.tokenEnv',
        message: 'required with github.releases: true: a token allowed to write releases (or ci.tokenEnv)',
      });
    if (!manifest.storage)
      problems.push({ path: 'storage', message: 'required with github.releases: true (the releases link to the stored files)' });
  }
  const email = manifest.notifications.email;
  if (email && !email.smtp && !email.outbox) {
    problems.push({ path: 'notifications.email', message: 'needs smtp (host, port) or an outbox directory' });
  }
  return problems;
}

/**
 * The issues to report: for a value that fits no shape of a union (a version
 * rule), those of the shape it came closest to, not zod's "Invalid input".
 */
function reportedIssues(issues: readonly z.ZodIssue[]): z.ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union' || issue.unionErrors.length === 0) return [issue];
    const closest = [...issue.unionErrors].sort((a, b) => a.issues.length - b.issues.length)[0];
    return reportedIssues(closest.issues);
  });
}

/** Validates an already parsed document; `file` names it in every message. */
export function validateManifest(document: unknown, file: string): Manifest {
  const result = manifestSchema.safeParse(document);
  if (!result.success) {
    throw new ManifestError(
      file,
      reportedIssues(result.error.issues).map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue) })),
    );
  }
  const problems = crossChecks(result.data);
  if (problems.length > 0) throw new ManifestError(file, problems);
  return result.data;
}
