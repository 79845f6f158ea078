import { parse as parseYaml } from 'yaml';
import type { Manifest, VersionPreset, VersionRule } from '../config/manifest';
import { UserError } from '../config/errors';
import { renderTemplate, TemplateValues } from './template';
import { isPep440 } from './version';

/**
 * The version tool. A rule has the original tool's shape: `type` (regex over
 * the file name), `path` (regex over the repository name), `excluded` files,
 * `match` (regex that finds the spot), `replace` (regex inside the match) and
 * `with` (a template over the version forms). Pure: it works on file contents
 * and returns the new ones; the activity reads and writes the files.
 */
export interface ConcreteRule {
  description: string;
  type: string;
  path: string;
  excluded: string[];
  match: string;
  replace: string;
  with: string;
  required: boolean;
  /** Checked on every value the rule writes. */
  check?: 'pep440';
  /** Where the manifest wrote it (`versionRules[7]`), which a preset's several rules share. */
  origin?: string;
}

const QUOTED_VALUE = `(?<=['"])[^'"]*(?=['"])`;

function rule(description: string, fields: Omit<ConcreteRule, 'description' | 'path' | 'excluded' | 'required'>): ConcreteRule {
  return { description, path: '.*', excluded: [], required: false, ...fields };
}

/** Built-in rules for the common files, so a manifest rarely writes regexes. */
export const PRESETS: Record<VersionPreset, ConcreteRule[]> = {
  'setup.py': [
    rule('setup.py version', {
      type: '^setup\\.py$',
      match: `\\bversion\\s*=\\s*['"][^'"]*['"]`,
      replace: QUOTED_VALUE,
      with: '{{ python_version }}',
      check: 'pep440',
    }),
  ],
  'pyproject.toml': [
    rule('pyproject.toml [project] version', {
      type: '^pyproject\\.toml$',
      match: '^version\\s*=\\s*"[^"]*"',
      replace: '(?<=")[^"]*(?=")',
      with: '{{ python_version }}',
      check: 'pep440',
    }),
  ],
  __version__: [
    rule('__version__ in Python modules', {
      type: '^(__init__|__version__|_version|version)\\.py$',
      match: `^__version__\\s*=\\s*['"][^'"]*['"]`,
      replace: QUOTED_VALUE,
      with: '{{ python_version }}',
      check: 'pep440',
    }),
  ],
  'package.json': [
    rule('package.json version', {
      type: '^package\\.json$',
      match: '^ {2}"version"\\s*:\\s*"[^"]*"',
      replace: '(?<=:\\s*")[^"]*(?=")',
      with: '{{ version_file_version }}',
    }),
  ],
  'plugin.yaml': [
    rule('plugin.yaml package_version', {
      type: '^plugin\\.yaml$',
      match: `package_version:\\s*['"]?[^'"\\s]+['"]?`,
      replace: `(?<=:\\s*['"]?)[^'"\\s]+`,
      with: '{{ yaml_plugins_version }}',
    }),
    rule('plugin.yaml package_source archive URL', {
      type: '^plugin\\.yaml$',
      match: 'package_source:\\s*\\S+/archive/[^/\\s]+\\.(zip|tar\\.gz)',
      replace: '(?<=/archive/)[^/\\s]+?(?=\\.(zip|tar\\.gz)$)',
      with: '{{ yaml_version }}',
    }),
  ],
  'types.yaml': [
    rule('types.yaml import URLs', {
      type: '\\.ya?ml$',
      match: 'https?://[^\\s\'"]+/spec/[^/\\s\'"]+/[^/\\s\'"]+/types\\.yaml',
      replace: '[^/]+(?=/types\\.yaml$)',
      with: '{{ yaml_core_version }}',
    }),
    rule('plugin.yaml import URLs', {
      type: '\\.ya?ml$',
      match: 'https?://[^\\s\'"]+/spec/[^/\\s\'"]+/[^/\\s\'"]+/plugin\\.yaml',
      replace: '[^/]+(?=/plugin\\.yaml$)',
      with: '{{ yaml_plugins_version }}',
    }),
  ],
  'sphinx-conf.py': [
    rule('Sphinx conf.py version', {
      type: '^conf\\.py$',
      match: `^version\\s*=\\s*u?['"][^'"]*['"]`,
      replace: QUOTED_VALUE,
      with: '{{ major }}.{{ minor }}',
    }),
    rule('Sphinx conf.py release', {
      type: '^conf\\.py$',
      match: `^release\\s*=\\s*u?['"][^'"]*['"]`,
      replace: QUOTED_VALUE,
      with: '{{ yaml_core_version }}',
    }),
  ],
  blueprint: [
    rule('manager blueprint package URLs', {
      type: '^(.*-)?blueprint(-inputs)?\\.yaml$',
      match: '{{ storage_url_pattern }}[^\\s\'"]+',
      replace: '{{ storage_url_pattern }}(?=[^/\\s\'"]+$)',
      with: '{{ release_url }}',
    }),
    // The version in the file name too (cloudify-ui_3.3.0-m4-b274_amd64.deb), not only its directory.
    rule('manager blueprint package file name versions', {
      type: '^(.*-)?blueprint(-inputs)?\\.yaml$',
      match: '{{ storage_url_pattern }}[^\\s\'"]+',
      replace: '\\d+\\.\\d+\\.\\d+(?:-(?:m|rc)\\d+)?(?=(?:[-_.][^/]*)?$)',
      with: '{{ version_version }}',
    }),
  ],
  VERSION: [
    rule('VERSION file', {
      type: '^VERSION$',
      match: '"version"\\s*:\\s*"[^"]*"',
      replace: '(?<=:\\s*")[^"]*(?=")',
      with: '{{ version_file_version }}',
    }),
  ],
};

/** The rules a manifest list expands to (presets into their rules), each naming its place in the manifest (`field[index]`). */
export function concreteRules(rules: readonly VersionRule[], field = 'versionRules'): ConcreteRule[] {
  return rules.flatMap((entry, index) =>
    'preset' in entry
      ? PRESETS[entry.preset].map((preset) => ({ ...preset, required: entry.required, origin: `${field}[${index}]` }))
      : [
          {
            description: entry.description || entry.type,
            type: entry.type,
            path: entry.path,
            excluded: entry.excluded,
            match: entry.match,
            replace: entry.replace,
            with: entry.with,
            required: entry.required,
            origin: `${field}[${index}]`,
          },
        ],
  );
}

/** The rules of one repository: its own `versionRules` when it has them, else the manifest's. */
export function repositoryRules(manifest: Pick<Manifest, 'repositories' | 'versionRules'>, repository: string): ConcreteRule[] {
  const index = manifest.repositories.findIndex((candidate) => candidate.name === repository);
  const own = manifest.repositories[index]?.versionRules;
  return own ? concreteRules(own, `repositories[${index}].versionRules`) : concreteRules(manifest.versionRules);
}

/** How a file's bytes became its text: UTF-8 when they are valid UTF-8, else latin-1 (one character per byte, so every byte comes back). */
export type SourceEncoding = 'utf8' | 'latin1';

export interface SourceFile {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  content: string;
  /** Absent: utf8. */
  encoding?: SourceEncoding;
}

export interface FileChange {
  path: string;
  before: string;
  after: string;
  rules: string[];
  encoding?: SourceEncoding;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A file's text and how to write it back byte for byte: a latin-1 file keeps its `é`, not U+FFFD. */
export function decodeSource(bytes: Uint8Array): { content: string; encoding: SourceEncoding } {
  try {
    return { content: STRICT_UTF8.decode(bytes), encoding: 'utf8' };
  } catch {
    return { content: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), encoding: 'latin1' };
  }
}

/** The bytes of a rewritten file, in the encoding it was read in; a latin-1 file cannot take a character it has no byte for. */
export function encodeSource(change: Pick<FileChange, 'path' | 'after' | 'encoding'>): Buffer {
  if (change.encoding !== 'latin1') return Buffer.from(change.after, 'utf8');
  const outside = [...change.after].find((character) => character.charCodeAt(0) > 0xff);
  if (outside !== undefined) {
    throw new UserError(
      `${change.path}: the file is not UTF-8 (read as latin-1) and the version rewrite put '${outside}' in it, which latin-1 cannot hold`,
    );
  }
  return Buffer.from(change.after, 'latin1');
}

function compile(pattern: string, flags: string, where: string): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch (error) {
    throw new UserError(`${where}: invalid regular expression ${pattern}: ${(error as Error).message}`);
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `storage_url_pattern` lets the blueprint preset find URLs under the storage's public base. */
export function ruleValues(values: TemplateValues & { storage_url?: string }): TemplateValues {
  const base = values.storage_url;
  // Without storage there is nothing to point blueprints at: the pattern matches nothing.
  return {
    ...values,
    release_url: values.release_url ?? '',
    storage_url_pattern: base ? `${escapeRegex(base.replace(/\/+$/, ''))}/(?:[^\\s'"]*/)?` : '(?!)',
  };
}

function checkParses(file: SourceFile): void {
  try {
    if (/\.ya?ml$/.test(file.path)) parseYaml(file.content);
    else if (/\.json$/.test(file.path)) JSON.parse(file.content);
  } catch (error) {
    throw new UserError(`${file.path}: no longer parses after the version rewrite: ${(error as Error).message.split('\n')[0]}`);
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Applies the rules to a repository's files. Returns the files that change;
 * refuses (UserError) when a required rule matches nothing, a written value is
 * not valid, a rewritten file no longer parses, or the rules are not
 * idempotent: a retried version step runs them over their own output, which
 * must change nothing (a match of `\d+\.\d+` would turn 3.4.1 into 3.4.1.1).
 */
export function applyVersionRules(
  repository: string,
  files: readonly SourceFile[],
  rules: readonly ConcreteRule[],
  values: TemplateValues,
): FileChange[] {
  const result = rewrite(repository, files, rules, values);
  const rewritten = new Map(result.map((change) => [change.path, change.after]));
  let again: FileChange[];
  try {
    again = rewrite(
      repository,
      files.map((file) => ({ path: file.path, content: rewritten.get(file.path) ?? file.content })),
      rules,
      values,
    );
  } catch (error) {
    throw new UserError(`${repository}: version rules are not idempotent: over their own output, ${(error as Error).message}`);
  }
  if (again.length > 0) {
    const [change] = again;
    throw new UserError(
      `${repository}: version rules are not idempotent: a second run would change ${change.path} again (${change.rules.join(', ')}: ${
        shortDiff(change)
          .split('\n')
          .find((line) => line.startsWith('+') && !line.startsWith('+++')) ?? ''
      }); anchor the rule's match so it does not match its own output`,
    );
  }
  return result;
}

function rewrite(repository: string, files: readonly SourceFile[], rules: readonly ConcreteRule[], values: TemplateValues): FileChange[] {
  const templateContext = ruleValues(values);
  const changes = new Map<string, FileChange>();
  for (const [index, current] of rules.entries()) {
    const where = `${current.origin ?? `versionRules[${index}]`} (${current.description})`;
    if (!compile(current.path, '', where).test(repository)) continue;
    const typePattern = compile(current.type, '', where);
    const matchPattern = compile(renderTemplate(current.match, templateContext, `${where}.match`), 'gm', where);
    const replacement = renderTemplate(current.with, templateContext, `${where}.with`);
    if (current.check === 'pep440' && !isPep440(replacement)) {
      throw new UserError(`${where}: '${replacement}' is not a PEP 440 version`);
    }
    let matched = false;
    for (const file of files) {
      if (!typePattern.test(basename(file.path)) || current.excluded.includes(file.path)) continue;
      const previous = changes.get(file.path);
      const before = previous?.after ?? file.content;
      const replacePattern = compile(renderTemplate(current.replace, templateContext, `${where}.replace`), 'g', where);
      const after = before.replace(matchPattern, (spot) => {
        matched = true;
        return spot.replace(replacePattern, replacement);
      });
      if (after !== before || previous) {
        const change: FileChange = previous ?? { path: file.path, before: file.content, after, rules: [], encoding: file.encoding };
        change.after = after;
        if (after !== before) change.rules.push(current.description);
        changes.set(file.path, change);
      }
    }
    if (current.required && !matched) {
      throw new UserError(`${repository}: required rule ${where} matched nothing (file name /${current.type}/, spot /${current.match}/)`);
    }
  }
  const result = [...changes.values()].filter((change) => change.after !== change.before);
  for (const change of result) {
    checkParses({ path: change.path, content: change.after });
    encodeSource(change);
  }
  return result.sort((a, b) => a.path.localeCompare(b.path));
}

/** A short unified-style diff of the changed lines, for `relflow plan`. */
export function shortDiff(change: FileChange): string {
  const before = change.before.split('\n');
  const after = change.after.split('\n');
  const lines = [`--- ${change.path}`, `+++ ${change.path}`];
  for (let index = 0; index < Math.max(before.length, after.length); index += 1) {
    if (before[index] !== after[index]) {
      if (before[index] !== undefined) lines.push(`-${before[index]}`);
      if (after[index] !== undefined) lines.push(`+${after[index]}`);
    }
  }
  return lines.join('\n');
}
