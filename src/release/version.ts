import { UserError } from '../config/errors';

export const RELEASE_KINDS = ['nightly', 'milestone', 'ga', 'patch'] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

export function isReleaseKind(value: string): value is ReleaseKind {
  return (RELEASE_KINDS as readonly string[]).includes(value);
}

/** `m` (milestone), `rc` (release candidate) or `dev` (nightly, number = date). */
export interface Prerelease {
  label: 'm' | 'rc' | 'dev';
  number: number;
}

export interface ProductVersion {
  major: number;
  minor: number;
  /** Patch number, 0 for everything but patch releases. */
  patch: number;
  prerelease?: Prerelease;
}

const EXAMPLES: Record<ReleaseKind, string> = {
  nightly: '3.5 (the version in development; the date is added)',
  milestone: '3.4m5 (or 3.4rc1)',
  ga: '3.4',
  patch: '3.4.2 (or 3.4-patch2; a patch milestone or candidate: 3.4.2m1, 3.4.2rc1)',
};

const PATTERNS: Record<ReleaseKind, RegExp> = {
  nightly: /^(\d{1,4})\.(\d{1,4})$/,
  milestone: /^(\d{1,4})\.(\d{1,4})(m|rc)(\d{1,4})$/,
  ga: /^(\d{1,4})\.(\d{1,4})$/,
  patch: /^(\d{1,4})\.(\d{1,4})(?:\.|-patch)(\d{1,4})(?:(m|rc)(\d{1,4}))?$/,
};

export function versionExample(kind: ReleaseKind): string {
  return EXAMPLES[kind];
}

/** The accepted spelling of a form other tools used (Cloudify's `3.2rc`, `3.3.0m7`), when the input is one. */
function spellingHint(kind: ReleaseKind, input: string): string | undefined {
  const numberless = /^(\d{1,4})\.(\d{1,4})(\.\d{1,4})?(m|rc)$/.exec(input);
  if (numberless) {
    const [, major, minor, patch = '', label] = numberless;
    return `a ${label === 'rc' ? 'candidate' : 'milestone'} needs its number: write ${major}.${minor}${patch}${label}1 (or the number it is)`;
  }
  const zeroPatch = /^(\d{1,4})\.(\d{1,4})\.0((?:m|rc)\d{1,4})?$/.exec(input);
  if (zeroPatch && kind !== 'patch') {
    return `write ${zeroPatch[1]}.${zeroPatch[2]}${zeroPatch[3] ?? ''}: a ${kind} version has no patch number`;
  }
  return undefined;
}

/**
 * Parses the version a release engineer types for a release kind.
 * `nightlyDate` (YYYYMMDD) is required for nightlies and comes from workflow time.
 */
export function parseReleaseVersion(kind: ReleaseKind, input: string, nightlyDate?: string): ProductVersion {
  const match = PATTERNS[kind].exec(input.trim());
  if (!match) {
    const hint = spellingHint(kind, input.trim());
    throw new UserError(`invalid ${kind} version '${input}': ${hint ?? `expected e.g. ${EXAMPLES[kind]}`}`);
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  switch (kind) {
    case 'ga':
      return { major, minor, patch: 0 };
    case 'milestone': {
      const number = Number(match[4]);
      if (number < 1) throw new UserError(`invalid milestone version '${input}': the milestone number starts at 1, e.g. 3.4m1`);
      return { major, minor, patch: 0, prerelease: { label: match[3] as 'm' | 'rc', number } };
    }
    case 'patch': {
      const patch = Number(match[3]);
      if (patch < 1) throw new UserError(`invalid patch version '${input}': the patch number starts at 1, e.g. 3.4.1`);
      if (!match[4]) return { major, minor, patch };
      const number = Number(match[5]);
      if (number < 1)
        throw new UserError(`invalid patch version '${input}': the milestone number starts at 1, e.g. ${major}.${minor}.${patch}m1`);
      return { major, minor, patch, prerelease: { label: match[4] as 'm' | 'rc', number } };
    }
    case 'nightly': {
      if (!nightlyDate || !/^\d{8}$/.test(nightlyDate)) {
        throw new UserError(`a nightly needs its date as YYYYMMDD, got '${nightlyDate ?? ''}'`);
      }
      return { major, minor, patch: 0, prerelease: { label: 'dev', number: Number(nightlyDate) } };
    }
  }
}

/** A patch milestone or candidate (`3.2.1m1`, `3.2.1rc1`): tagged and tested like a milestone, on the patch branch. */
export function isPatchPrerelease(kind: ReleaseKind, version: string | undefined): boolean {
  return kind === 'patch' && version !== undefined && PATTERNS.patch.exec(version.trim())?.[4] !== undefined;
}

/** The version streams of a release: core (the product) and plugins. */
export interface VersionForms {
  /** yaml / tag form: `3.2m3`, `3.2`, `3.2.1`, `3.5dev20261124`. */
  yaml_core_version: string;
  yaml_plugins_version: string;
  /** PEP 440: `3.2a3`, `3.2rc1`, `3.2`, `3.2.1`, `3.5.dev20261124`. */
  python_core_version: string;
  python_plugins_version: string;
  /** VERSION files, always three parts: `3.2.0-m3`, `3.2.0`. */
  version_version: string;
  version_plugins_version: string;
}

function base(version: ProductVersion, threeParts: boolean): string {
  const twoParts = `${version.major}.${version.minor}`;
  return threeParts || version.patch > 0 ? `${twoParts}.${version.patch}` : twoParts;
}

function yamlForm(version: ProductVersion): string {
  const pre = version.prerelease;
  return pre ? `${base(version, false)}${pre.label}${pre.number}` : base(version, false);
}

function pythonForm(version: ProductVersion): string {
  const pre = version.prerelease;
  if (!pre) return base(version, false);
  if (pre.label === 'dev') return `${base(version, false)}.dev${pre.number}`;
  return `${base(version, false)}${pre.label === 'm' ? 'a' : 'rc'}${pre.number}`;
}

function versionFileForm(version: ProductVersion): string {
  const pre = version.prerelease;
  return pre ? `${base(version, true)}-${pre.label}${pre.number}` : base(version, true);
}

/**
 * Parses the plugins stream (`1.4`, or `1.4.2` for a patch) and gives it the
 * prerelease of the core version, as the original version tool did. In a patch
 * a stream given without its own patch number takes the core's (`1.3` in
 * `3.3.2m1` is `1.3.2m1`): `1.3` and its pre-releases belong to the GA, so a
 * patch never writes a pre-release of a released version, nor its spec's key.
 */
export function pluginsVersion(input: string, core: ProductVersion, kind?: ReleaseKind): ProductVersion {
  const match = /^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?$/.exec(input.trim());
  if (!match) throw new UserError(`invalid plugins version '${input}': expected e.g. 1.4 or 1.4.2`);
  return {
    major: Number(match[1]),
    minor: Number(match[2]),
    patch: match[3] ? Number(match[3]) : kind === 'patch' ? core.patch : 0,
    prerelease: core.prerelease,
  };
}

export function versionForms(core: ProductVersion, plugins: ProductVersion): VersionForms {
  return {
    yaml_core_version: yamlForm(core),
    yaml_plugins_version: yamlForm(plugins),
    python_core_version: pythonForm(core),
    python_plugins_version: pythonForm(plugins),
    version_version: versionFileForm(core),
    version_plugins_version: versionFileForm(plugins),
  };
}

const FORM_PATTERNS: Record<keyof VersionForms, RegExp> = {
  yaml_core_version: /^\d+\.\d+(\.\d+)?((m|rc|dev)\d+)?$/,
  yaml_plugins_version: /^\d+\.\d+(\.\d+)?((m|rc|dev)\d+)?$/,
  python_core_version: /^\d+\.\d+(\.\d+)?((a|rc)\d+|\.dev\d+)?$/,
  python_plugins_version: /^\d+\.\d+(\.\d+)?((a|rc)\d+|\.dev\d+)?$/,
  version_version: /^\d+\.\d+\.\d+(-(m|rc|dev)\d+)?$/,
  version_plugins_version: /^\d+\.\d+\.\d+(-(m|rc|dev)\d+)?$/,
};

/** Every form must match its pattern before the version tool writes anything. */
export function checkVersionForms(forms: VersionForms): void {
  for (const [name, pattern] of Object.entries(FORM_PATTERNS) as [keyof VersionForms, RegExp][]) {
    if (!pattern.test(forms[name])) {
      throw new UserError(`version form ${name} = '${forms[name]}' does not match ${pattern}`);
    }
  }
}

/** PEP 440 public version check (the subset release tools produce). */
export function isPep440(version: string): boolean {
  return /^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$/.test(version);
}

/**
 * A version in any form products write (3.2, 3.3a4, 3.3.0-m4, 3.3m4, 3.3.dev20261124, 3.2rc,
 * 3.3.0m7, 3.2.0-ga-b200, v1.2.3) or a ref a release points siblings at (master, a tag such as
 * nightly-20261124, a patch or build branch such as 3.3-patch1 or 3.3.1-build). A placeholder
 * (CORE_TAG_NAME, _, {{ version }}) or a word (tosca_definitions_version) is neither.
 */
export function isVersionOrRef(text: string): boolean {
  return VERSION_LIKE.test(text) || REF_LIKE.test(text);
}

const VERSION_LIKE = /^v?\d+(?:\.\d+)*(?:[._-]?(?:a|b|c|m|rc|alpha|beta|dev|post|sp|ga)\d*)*(?:[-+][\w.]+)*$/i;
const REF_LIKE = /^(?:master|main|develop|trunk|nightly(?:-\d{8})?)$/;
