import { refuseManifestProblems } from '../../release/manifestCheck';
import { workerOnlyChecks } from '../../activities/preflight';
import type { ReleaseKind } from '../../release/version';
import { out, releaseTargetOf, type TargetOptions } from '../options';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { candidateFiles, declaredPackageAt } from '../../activities/git';
import { gitAt, gitEnvironment, remoteRefs, runGit, tokenAllowedFor } from '../../activities/gitWorkspace';
import { type ReleaseTarget, targetManifest } from '../releases';
import { UserError } from '../../config/errors';
import type { Manifest } from '../../config/manifest';
import {
  buildReleasePlan,
  dateStamp,
  releasedTagAdvice,
  ReleasePlan,
  RepositoryPlan,
  repositoryTemplateValues,
  SpecPlacement,
  specPlacements,
} from '../../release/plan';
import { declaredPackages, siblingValues, type SiblingValues } from '../../release/siblings';
import { repositoryRules } from '../../release/versionRules';
import { applyVersionRules, FileChange, shortDiff } from '../../release/versionRewrite';
import { mapWithLimit } from '../../release/concurrency';

export interface PlannedRepository {
  name: string;
  url: string;
  baseBranch: string;
  buildBranch: string;
  tag?: string;
  productVersion: string;
  pythonVersion: string;
  changes: FileChange[];
  /** Spots the rules matched and left because their value is not a version (a constant, a placeholder). */
  left: string[];
}

export interface PlanReport {
  plan: ReleasePlan;
  repositories: PlannedRepository[];
  /** What would make the release block or surprise: a version unlike the manifest's, a tag already released. */
  warnings: string[];
  /** Where each types.yaml and plugin.yaml goes, and which rewritten files import it there. */
  specs: (SpecPlacement & { importedBy: string[] })[];
  /** What the plan checked here, and what only the worker's preflight can check. */
  checks: { here: string[]; workerOnly: string[] };
}

const CHECKED_HERE = [
  'the manifest (validate)',
  "every remote's base branch can be read",
  'release tags already on the remotes (warnings above)',
  'the version rules: valid, required ones match, idempotent, rewritten files still parse',
  'the storage layouts render to keys inside the release, and the outputs can be built and stored by name',
  'where the spec files go and what imports them',
];

/** The spec files' public URLs beside the imports the version rules wrote; an import of the same spec elsewhere is a warning. */
function placeSpecs(plan: ReleasePlan, manifest: Manifest, repositories: PlannedRepository[], warnings: string[]): PlanReport['specs'] {
  return specPlacements(plan, manifest).map((placement) => {
    const importedBy: string[] = [];
    const file = placement.path.slice(placement.path.lastIndexOf('/') + 1);
    for (const repository of repositories) {
      for (const change of repository.changes) {
        for (const url of change.after.match(/https?:\/\/[^\s'"]+/g) ?? []) {
          if (url === placement.url) importedBy.push(`${repository.name}:${change.path}`);
          else if (
            url.endsWith(`/${placement.key}`) ||
            (url.endsWith(`/${file}`) &&
              placement.url &&
              url.split('/').slice(-3).join('/') === placement.url.split('/').slice(-3).join('/'))
          ) {
            warnings.push(
              `${repository.name}:${change.path} imports ${url}, but ${placement.repository}'s ${file} is stored at ${placement.url ?? placement.key} (storage.publicUrl, storage.specLayout)`,
            );
          }
        }
      }
    }
    return { ...placement, importedBy };
  });
}

/** A repository's base branch, read: the package its setup.py declares, and its plan once every sibling's package is known. */
interface ClonedRepository {
  packageName?: string;
  plan(siblings: SiblingValues): Promise<PlannedRepository>;
}

function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value): PromiseSettledResult<T> => ({ status: 'fulfilled', value }),
    (reason: unknown): PromiseSettledResult<T> => ({ status: 'rejected', reason }),
  );
}

/** Every value, or every problem at once in manifest order (rather than whichever repository failed first). */
function everyOrProblems<T>(results: readonly PromiseSettledResult<T>[]): T[] {
  const problems = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  const userProblems = problems.filter((problem): problem is UserError => problem instanceof UserError);
  if (userProblems.length < problems.length) throw problems.find((problem) => !(problem instanceof UserError));
  if (userProblems.length > 0) throw new UserError(userProblems.map((problem) => problem.message).join('\n'));
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/**
 * What a release would do, computed without changing anything: each base
 * branch is read from a throw-away shallow clone in the system temp directory.
 */
export async function planRelease(options: ReleaseTarget): Promise<PlanReport> {
  const source = options.manifestName ?? options.configFile;
  const { manifest } = await targetManifest(options);
  refuseManifestProblems(manifest, source);
  const plan = buildReleasePlan(manifest, { ...options, date: options.date ?? dateStamp(new Date()) });
  const scratch = await mkdtemp(join(tmpdir(), 'relflow-plan-'));
  const warnings: string[] = [];
  const typed = `${plan.version.major}.${plan.version.minor}`;
  if (options.version && plan.kind !== 'nightly' && typed !== manifest.versions.core.replace(/\.0$/, '')) {
    warnings.push(
      `--version ${options.version} is for ${typed}, but versions.core in ${source} is ${manifest.versions.core}: the plugins stream stays at ${plan.forms.yaml_plugins_version}; is that meant?`,
    );
  }
  try {
    // git.parallelism clones at a time, each settled (so every unreadable repository is reported). The rules run once
    // every clone is read: a repository's pins name its siblings' packages, which their setup.py files declare.
    const cloned = everyOrProblems(
      await mapWithLimit(plan.repositories, manifest.git.parallelism, (repository, index) => settle(cloneRepository(repository, index))),
    );
    const siblings = siblingValues(
      manifest,
      declaredPackages(cloned.map((repository, index) => ({ name: plan.repositories[index].name, packageName: repository.packageName }))),
    );
    const repositories = everyOrProblems(
      await mapWithLimit(cloned, manifest.git.parallelism, (repository) => settle(repository.plan(siblings))),
    );
    async function cloneRepository(repository: RepositoryPlan, index: number): Promise<ClonedRepository> {
      const rules = repositoryRules(manifest, repository.name);
      const dir = join(scratch, repository.name);
      try {
        await runGit(
          scratch,
          ['clone', '--bare', '--depth', '1', '--single-branch', '--branch', repository.baseBranch, '--', repository.url, dir],
          gitEnvironment(process.env, tokenAllowedFor(process.env, manifest.git.tokenEnv, repository.url), repository.url),
        );
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).trim().split('\n').filter(Boolean).slice(-1)[0];
        throw new UserError(
          `repositories[${index}] (${repository.name}): cannot read branch '${repository.baseBranch}' of ${repository.url}: ${reason}`,
        );
      }
      if (repository.tag) {
        const refs = await remoteRefs(
          repository.url,
          [`refs/tags/${repository.tag}`, `refs/heads/${repository.buildBranch}`],
          process.env,
          tokenAllowedFor(process.env, manifest.git.tokenEnv, repository.url),
        );
        if (refs.has(`refs/tags/${repository.tag}`) && !refs.has(`refs/heads/${repository.buildBranch}`)) {
          warnings.push(
            `${repository.name}: tag '${repository.tag}' already exists on ${repository.url}: ${releasedTagAdvice(repository, plan.kind)}`,
          );
        }
      }
      const git = gitAt(dir, gitEnvironment(process.env));
      return {
        packageName: await declaredPackageAt(git, 'HEAD', repository.name),
        plan: async (siblings) => {
          const values = repositoryTemplateValues(plan, manifest, repository, siblings);
          const files = await candidateFiles(git, 'HEAD', rules);
          const { changes, warnings: notChecked, left } = applyVersionRules(repository.name, files, rules, values);
          warnings.push(...notChecked);
          return {
            name: repository.name,
            url: repository.url,
            baseBranch: repository.baseBranch,
            buildBranch: repository.buildBranch,
            tag: repository.tag,
            productVersion: String(values.yaml_version),
            pythonVersion: String(values.python_version),
            changes,
            left,
          };
        },
      };
    }
    // Tags are looked up in parallel: list them in manifest order.
    const order = plan.repositories.map((repository) => `${repository.name}: `);
    warnings.sort((a, b) => order.findIndex((prefix) => a.startsWith(prefix)) - order.findIndex((prefix) => b.startsWith(prefix)));
    const specs = placeSpecs(plan, manifest, repositories, warnings);
    return {
      plan,
      repositories,
      warnings,
      specs,
      checks: { here: CHECKED_HERE, workerOnly: workerOnlyChecks({ kind: plan.kind, manifest, plan }) },
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export function formatPlan(report: PlanReport): string {
  const { plan } = report;
  const lines = [
    `${plan.product} ${plan.kind} release ${plan.releaseName} (ID ${plan.releaseId})`,
    ...report.warnings.map((warning) => `warning: ${warning}`),
  ];
  if (plan.repositories.some((repository) => repository.stream === 'plugins')) {
    const why =
      plan.kind === 'patch'
        ? `: a patch moves the plugins forward with the core patch (${plan.forms.yaml_core_version}), never to a version or pre-release the GA released; --plugins-version x.y.z sets another`
        : '';
    lines.push(`plugins stream: ${plan.forms.yaml_plugins_version} (Python ${plan.forms.python_plugins_version})${why}`);
  }
  if (plan.storagePrefix !== undefined) lines.push(`storage prefix: ${plan.storagePrefix}`);
  if (report.specs.length > 0) {
    lines.push('', 'spec files:');
    for (const spec of report.specs) {
      lines.push(
        `  ${spec.repository}:${spec.path} -> ${spec.url ?? spec.key}`,
        `    ${spec.importedBy.length > 0 ? `imported by ${spec.importedBy.join(', ')}` : 'no rewritten import points here'}`,
      );
    }
  }
  for (const repository of report.repositories) {
    lines.push(
      '',
      `${repository.name}  ${repository.url}`,
      `  base ${repository.baseBranch} -> build branch ${repository.buildBranch}, tag ${repository.tag ?? '(none: patch)'}`,
      `  version ${repository.productVersion}, Python ${repository.pythonVersion}`,
      repository.changes.length === 0 ? '  no file changes' : `  ${repository.changes.length} file(s) change:`,
      ...repository.changes.map((change) => shortDiff(change).replace(/^/gm, '    ')),
      ...(repository.left.length > 0 ? ['  left alone (not a version):', ...repository.left.map((spot) => `    ${spot}`)] : []),
    );
  }
  lines.push(
    '',
    'checked here:',
    ...report.checks.here.map((check) => `  ${check}`),
    'checked only by the preflight on the worker, when the release starts (before anything is pushed):',
    ...report.checks.workerOnly.map((check) => `  ${check}`),
  );
  return lines.join('\n');
}

export interface PlanCommandOptions extends TargetOptions {
  json?: boolean;
}

export async function planAction(kind: ReleaseKind, options: PlanCommandOptions): Promise<void> {
  const report = await planRelease(releaseTargetOf(kind, options));
  out(options.json ? JSON.stringify(report, null, 2) : formatPlan(report));
}
