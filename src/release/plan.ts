import type { PreviousReleaseQuery, TagShape } from './notes';
import { siblingValues, type SiblingValues } from './siblings';
import { isGitRefName } from '../config/names';
import { DEFAULT_PACKAGE_FILE_VERSION, DEFAULT_SPEC_LAYOUT } from '../config/defaults';
import type { Manifest, RepositorySpec } from '../config/manifest';
import { UserError } from '../config/errors';
import { renderTemplate, TemplateValues } from './template';
import { escapeRegex, storageUrlPattern } from './versionRules';
import {
  checkVersionForms,
  isPatchPrerelease,
  parseReleaseVersion,
  pluginsVersion,
  ProductVersion,
  ReleaseKind,
  versionForms,
  VersionForms,
} from './version';

export interface RepositoryPlan {
  name: string;
  url: string;
  mainBranch: string;
  /** Where the release starts: the main branch, or the patch branch. */
  baseBranch: string;
  /** The branch the version commit goes to. */
  buildBranch: string;
  /** The tag pushed for this release; absent for patches. */
  tag?: string;
  stream: 'core' | 'plugins';
  /** The yaml form of this repository's stream (`3.4m5` or `1.4m5`). */
  version: string;
}

export interface ReleasePlan {
  releaseId: string;
  product: string;
  kind: ReleaseKind;
  /** `3.4m5`, `3.4`, `3.4.2`, `nightly-20261124`. */
  releaseName: string;
  version: ProductVersion;
  forms: VersionForms;
  commitMessage: string;
  /** Storage prefix of this release's files (layout with an empty file name). */
  storagePrefix?: string;
  /** YYYYMMDD the release was planned for (a nightly's date). */
  date?: string;
  /** The build number, taken from the product's counter when the release starts (after the preflight). */
  build?: number;
  repositories: RepositoryPlan[];
}

export interface PlanInput {
  kind: ReleaseKind;
  /** The version typed by the user; nightlies default to the manifest's core version. */
  version?: string;
  pluginsVersion?: string;
  /** YYYYMMDD, for nightlies. */
  date?: string;
  /** A patch keeps the plugins version as given (`1.3`), as patches recorded before it moved forward did. */
  pluginsKeepVersion?: boolean;
}

/** The build workflow of an artifact (the artifacts stage's child): `<release ID>/artifact/<name>`. */
export function artifactWorkflowId(releaseId: string, artifact: string): string {
  return `${releaseId}/artifact/${artifact}`;
}

/** What a release is called in its notes, GitHub releases and reports: `cloudify ga release 3.4`. */
export function releaseTitle(plan: Pick<ReleasePlan, 'product' | 'kind' | 'releaseName'>): string {
  return `${plan.product} ${plan.kind} release ${plan.releaseName}`;
}

/** Workflow IDs and release IDs: `<product>-<releaseName>`. */
export function releaseIdOf(product: string, releaseName: string): string {
  return `${product}-${releaseName}`;
}

function releaseDir(version: ProductVersion): string {
  const pre = version.prerelease;
  return pre && pre.label !== 'dev' ? `${pre.label}${pre.number}-RELEASE` : 'ga-RELEASE';
}

export function templateValues(
  plan: Pick<ReleasePlan, 'product' | 'kind' | 'releaseName' | 'version' | 'forms'>,
  date?: string,
): TemplateValues {
  const { version, forms } = plan;
  return {
    product: plan.product,
    kind: plan.kind,
    release_name: plan.releaseName,
    major: version.major,
    minor: version.minor,
    patch: version.patch,
    prerelease: version.prerelease && version.prerelease.label !== 'dev' ? `${version.prerelease.label}${version.prerelease.number}` : '',
    // What packaging scripts call the release: m4, rc1, ga, sp (a service pack), dev (a nightly).
    package_prerelease: !version.prerelease
      ? plan.kind === 'patch'
        ? 'sp'
        : 'ga'
      : version.prerelease.label === 'dev'
        ? 'dev'
        : `${version.prerelease.label}${version.prerelease.number}`,
    date,
    release_dir: releaseDir(version),
    version_version_base: `${version.major}.${version.minor}.${version.patch}`,
    ...forms,
  };
}

export function storageKey(plan: ReleasePlan, manifest: Manifest, file: string): string {
  if (!manifest.storage) throw new UserError('storage: the manifest has no storage section');
  const layout = plan.kind === 'nightly' ? manifest.storage.nightlyLayout : manifest.storage.layout;
  const values = { ...templateValues(plan, plan.date), file };
  return renderTemplate(layout, values, 'storage.layout').replace(/\/{2,}/g, '/');
}

function gitRefName(name: string, where: string): string {
  if (!isGitRefName(name)) throw new UserError(`${where}: '${name}' is not a valid git branch or tag name`);
  return name;
}

function repositoryPlan(
  repository: RepositorySpec,
  manifest: Manifest,
  plan: Omit<ReleasePlan, 'repositories'>,
  date: string | undefined,
  plugins: VersionForms,
): RepositoryPlan {
  const values = {
    ...templateValues(plan, date),
    repository: repository.name,
    main_branch: repository.branch,
    version: repository.stream === 'plugins' ? plugins.yaml_plugins_version : plan.forms.yaml_core_version,
  };
  const buildBranch = gitRefName(
    renderTemplate(manifest.naming.branch[plan.kind], values, `naming.branch.${plan.kind}`),
    `naming.branch.${plan.kind}`,
  );
  // A patch is built from its branch (tagged only with naming.tag.patch); a patch milestone or candidate is tagged like any milestone.
  const tagKind = plan.kind === 'patch' ? (plan.version.prerelease ? 'milestone' : manifest.naming.tag.patch && 'patch') : plan.kind;
  const tag = tagKind
    ? gitRefName(renderTemplate(manifest.naming.tag[tagKind] as string, values, `naming.tag.${tagKind}`), `naming.tag.${tagKind}`)
    : undefined;
  gitRefName(repository.branch, `repositories[${repository.name}].branch`);
  return {
    name: repository.name,
    url: repository.url,
    mainBranch: repository.branch,
    baseBranch: plan.kind === 'patch' ? buildBranch : repository.branch,
    buildBranch,
    tag,
    stream: repository.stream,
    version: String(values.version),
  };
}

/** How a repository's previous release is found for its release notes: its tag shapes, and a patch's previous branch. */
export function notesQuery(plan: ReleasePlan, manifest: Manifest, repository: RepositoryPlan): PreviousReleaseQuery {
  const MARK = '\u0000';
  const values = { ...templateValues(plan, MARK), repository: repository.name, main_branch: repository.mainBranch, version: MARK };
  const shape = (template: string, where: string): TagShape => {
    const [prefix, suffix = MARK] = renderTemplate(template, values, where).split(MARK);
    // A template without the value it varies by matches no earlier release.
    return { prefix, suffix };
  };
  const { patch } = plan.version;
  const previousPatchBranch =
    plan.kind === 'patch' && !plan.version.prerelease && patch > 1
      ? renderTemplate(manifest.naming.branch.patch, { ...values, patch: patch - 1 }, 'naming.branch.patch')
      : undefined;
  return {
    kind: plan.kind,
    version: repository.version,
    ...(plan.date ? { date: plan.date } : {}),
    releaseTag: shape(manifest.naming.tag.ga, 'naming.tag.ga'),
    nightlyTag: shape(manifest.naming.tag.nightly, 'naming.tag.nightly'),
    ...(previousPatchBranch ? { previousPatchBranch } : {}),
  };
}

/**
 * Why a release has no tags, or undefined when it is tagged: a patch is built from its branch unless
 * the manifest names its tag (naming.tag.patch); its milestones and candidates are tagged.
 */
export function untaggedReason(kind: ReleaseKind, version: string | undefined, manifest: Pick<Manifest, 'naming'>): string | undefined {
  return kind === 'patch' && !isPatchPrerelease(kind, version) && !manifest.naming.tag.patch
    ? 'patches are built from the patch branch, not tags (naming.tag.patch tags them)'
    : undefined;
}

/** The public base URL of the stored files. */
export function storagePublicUrl(manifest: Manifest): string | undefined {
  const storage = manifest.storage;
  if (!storage) return undefined;
  if (storage.publicUrl) return storage.publicUrl.replace(/\/+$/, '');
  return storage.endpoint ? `${storage.endpoint.replace(/\/+$/, '')}/${storage.bucket}` : `https://${storage.bucket}.s3.amazonaws.com`;
}

/** The git ref a repository is released at: its tag, or for a patch its patch branch. */
function releaseRef(repository: Pick<RepositoryPlan, 'tag' | 'buildBranch'>): string {
  return repository.tag ?? repository.buildBranch;
}

/** The same as a full ref name: `refs/tags/<tag>`, or `refs/heads/<patch branch>`. */
export function releaseFullRef(repository: Pick<RepositoryPlan, 'tag' | 'buildBranch'>): string {
  return repository.tag ? `refs/tags/${repository.tag}` : `refs/heads/${repository.buildBranch}`;
}

/**
 * The ref of a stream's repositories: their first's (a tag template naming the
 * repository would differ between them), else the stream's yaml form.
 */
function streamRef(plan: ReleasePlan, stream: RepositoryPlan['stream']): string {
  const first = plan.repositories.find((candidate) => candidate.stream === stream);
  if (first) return releaseRef(first);
  return stream === 'plugins' ? plan.forms.yaml_plugins_version : plan.forms.yaml_core_version;
}

function repositoryPattern(repository: Pick<RepositoryPlan, 'name' | 'url'>): string {
  const urlName = repository.url.replace(/(?:\.git)?\/*$/, '').replace(/^.*[/:]/, '');
  const names = [...new Set([repository.name, urlName].filter(Boolean))].sort((a, b) => b.length - a.length);
  return `(?:${names.map(escapeRegex).join('|')})`;
}

export function repositoryTemplateValues(
  plan: ReleasePlan,
  manifest: Manifest,
  repository: RepositoryPlan,
  siblings: SiblingValues = siblingValues(manifest),
): TemplateValues {
  const plugins = repository.stream === 'plugins';
  const publicUrl = storagePublicUrl(manifest);
  const base = {
    ...templateValues(plan, plan.date),
    repository: repository.name,
    // The repository's name, as the manifest or its URL (github.com/org/<name>.git) spells it, as a regular expression.
    repository_pattern: repositoryPattern(repository),
    main_branch: repository.mainBranch,
    ref: releaseRef(repository),
    // `relflow plan` shows 0: the release takes its number when it starts.
    build: plan.build ?? 0,
  };
  return {
    ...base,
    // A manifest recorded before packageFileVersion existed has none: the default.
    package_file_version: renderTemplate(
      manifest.naming.packageFileVersion ?? DEFAULT_PACKAGE_FILE_VERSION,
      base,
      'naming.packageFileVersion',
    ),
    core_ref: streamRef(plan, 'core'),
    plugins_ref: streamRef(plan, 'plugins'),
    ...siblings,
    python_version: plugins ? plan.forms.python_plugins_version : plan.forms.python_core_version,
    yaml_version: plugins ? plan.forms.yaml_plugins_version : plan.forms.yaml_core_version,
    version_file_version: plugins ? plan.forms.version_plugins_version : plan.forms.version_version,
    storage_url: publicUrl,
    release_url: publicUrl && plan.storagePrefix !== undefined ? `${publicUrl}/${plan.storagePrefix}` : undefined,
    storage_url_pattern: storageUrlPattern([publicUrl, ...(manifest.storage?.formerPublicUrls ?? [])]),
  };
}

/** Every name of a release, computed from the manifest alone (pure; no I/O). */
/** YYYYMMDD of a day that exists. */
export function isCalendarDate(text: string): boolean {
  const match = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export function buildReleasePlan(manifest: Manifest, input: PlanInput): ReleasePlan {
  if (input.date !== undefined && !isCalendarDate(input.date)) {
    throw new UserError(`--date: '${input.date.slice(0, 20)}' is not a date: expected YYYYMMDD, e.g. 20261124`);
  }
  const versionInput = input.version ?? (input.kind === 'nightly' ? manifest.versions.core : undefined);
  if (!versionInput) throw new UserError(`--version is required for a ${input.kind} release`);
  const version = parseReleaseVersion(input.kind, versionInput, input.date);
  const plugins = pluginsVersion(
    input.pluginsVersion ?? manifest.versions.plugins,
    version,
    input.pluginsKeepVersion ? undefined : input.kind,
  );
  const forms = versionForms(version, plugins);
  checkVersionForms(forms);
  const releaseName = input.kind === 'nightly' ? `nightly-${input.date}` : forms.yaml_core_version;
  const base = {
    releaseId: releaseIdOf(manifest.product, releaseName),
    product: manifest.product,
    kind: input.kind,
    releaseName,
    version,
    forms,
    date: input.date,
  };
  const commitMessage = renderTemplate(manifest.naming.commitMessage, templateValues(base, input.date), 'naming.commitMessage');
  const partial = { ...base, commitMessage };
  const plan: ReleasePlan = {
    ...partial,
    repositories: manifest.repositories.map((repository) => repositoryPlan(repository, manifest, partial, input.date, forms)),
  };
  if (manifest.storage) plan.storagePrefix = storageKey(plan, manifest, '');
  return plan;
}

/** YYYYMMDD in UTC. */
export function dateStamp(date: Date): string {
  return date.toISOString().slice(0, 10).replace(/-/g, '');
}

/**
 * Why a release's tag can already be on a remote before the release made it,
 * and what to do: a stream version released before needs the next one.
 */
export function releasedTagAdvice(repository: Pick<RepositoryPlan, 'stream' | 'version' | 'tag'>, kind: ReleaseKind): string {
  const [major, minor] = repository.version.split(/[.a-z]/i).map(Number);
  const next = Number.isInteger(major) && Number.isInteger(minor) ? `${major}.${minor + 1}` : '<next version>';
  if (kind === 'nightly')
    return `the nightly tag '${repository.tag}' was already pushed by another nightly of that date; pass another --date`;
  if (repository.stream === 'plugins') {
    return `the plugins version ${repository.version} was already released; pass --plugins-version ${next} or bump versions.plugins in the manifest`;
  }
  return `version ${repository.version} was already released; pass a new --version or bump versions.core in the manifest`;
}

/** One types.yaml or plugin.yaml of the release: where it is stored, and its public URL. */
export interface SpecPlacement {
  repository: string;
  /** Path inside the repository. */
  path: string;
  key: string;
  url?: string;
}

/** Where each spec file of the release is stored: the spec layout, which the import URLs rewritten by the version rules point at. */
export function specPlacements(plan: ReleasePlan, manifest: Manifest): SpecPlacement[] {
  if (!manifest.storage) return [];
  const publicUrl = storagePublicUrl(manifest);
  const siblings = siblingValues(manifest);
  return manifest.repositories.flatMap((spec) => {
    const repository = plan.repositories.find((candidate) => candidate.name === spec.name);
    if (!repository) return [];
    const files: [string | undefined, string][] = [
      [spec.typesYaml, spec.specName ?? plan.product],
      [spec.pluginYaml, spec.specName ?? spec.name.replace(new RegExp(`^${escapeRegex(plan.product)}-`), '')],
    ];
    return files
      .filter((entry): entry is [string, string] => Boolean(entry[0]))
      .map(([path, specName]) => {
        const file = path.slice(path.lastIndexOf('/') + 1);
        const values = { ...repositoryTemplateValues(plan, manifest, repository, siblings), spec_name: specName, file };
        const key = renderTemplate(manifest.storage?.specLayout ?? DEFAULT_SPEC_LAYOUT, values, 'storage.specLayout')
          .replace(/\/{2,}/g, '/')
          .replace(/^\//, '');
        return { repository: spec.name, path, key, url: publicUrl && `${publicUrl}/${key}` };
      });
  });
}

/**
 * `<namespace>/<installation>`: what the build machines of one relflow installation are tagged with (the product
 * when the manifest names no installation).
 */
export function installationOf(namespace: string, manifest: Pick<Manifest, 'installation' | 'product'>): string {
  return `${namespace}/${manifest.installation ?? manifest.product}`;
}

/** Whether a publication gate opens for this kind of release: never for nightlies, for patches only when enabled, else unless disabled. */
export function gateApplies(kind: ReleaseKind, enabled: boolean | undefined): boolean {
  return kind !== 'nightly' && (enabled ?? kind !== 'patch');
}
