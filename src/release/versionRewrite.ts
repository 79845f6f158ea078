import { UserError } from '../config/errors';
import type { TemplateValues } from './template';
import { describeProblem, isParseChecked, lineAt, MAX_CHECKED_BYTES, ParseProblem, parseProblem } from './parseCheck';
import { ConcreteRule, PreparedRule, prepareRule, ruleValues } from './versionRules';

/**
 * The version rules applied to a repository's files: pure, it works on file
 * contents and returns the new ones (the version activity reads and writes
 * them, `relflow plan` shows them). Kept apart from the rules themselves,
 * which the workflow code reads: the parsers below are not workflow code.
 */

/** How a file's bytes became its text: UTF-8 when they are valid UTF-8, else latin-1 (one character per byte, so every byte comes back). */
export type SourceEncoding = 'utf8' | 'latin1';

export interface SourceFile {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  content: string;
  /** Absent: utf8. */
  encoding?: SourceEncoding;
}

/** What the rules do to a repository: the files that change, and what a release engineer should know. */
export interface VersionRewrite {
  changes: FileChange[];
  /** Files not checked to parse; each names the repository and the file. */
  warnings: string[];
  /** Spots a rule matched and left, their value not a version (`version.py:3: VERSION = 'x': 'x' is not a version: left (rule)`). */
  left: string[];
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

/**
 * A rewritten file must parse if it parsed before (YAML 1.1, JSON, TOML,
 * Python): refused otherwise, naming the repository, the file and the line. A
 * file that did not parse before is not the rewrite's doing: a warning.
 */
function checkParses(repository: string, change: FileChange, applied: readonly PreparedRule[]): string | undefined {
  if (!isParseChecked(change.path)) return undefined;
  if (change.after.length > MAX_CHECKED_BYTES) {
    return `${repository}: ${change.path}: larger than ${MAX_CHECKED_BYTES / 1024 / 1024} MiB, not checked to parse after the version rewrite`;
  }
  const after = parseProblem(change.path, change.after);
  if (!after) return undefined;
  const before = parseProblem(change.path, change.before);
  if (before) {
    return `${repository}: ${change.path}: did not parse before the version rewrite either (${describeProblem(before)}), so it is not checked`;
  }
  const { rule, problem } = firstBreakingRule(change, applied) ?? { rule: change.rules.join(', '), problem: after };
  throw new UserError(
    `${repository}: ${change.path}${problem.line !== undefined ? `:${problem.line}` : ''}: no longer parses after the version rewrite ` +
      `(${rule}): ${problem.message}`,
  );
}

/** The rule to blame: the first whose output does not parse, found by running the rules over the file again (only when it fails). */
function firstBreakingRule(change: FileChange, applied: readonly PreparedRule[]): { rule: string; problem: ParseProblem } | undefined {
  let text = change.before;
  for (const prepared of applied) {
    if (!prepared.readsFile(change.path)) continue;
    const next = prepared.rewriteText(text).text;
    if (next === text) continue;
    text = next;
    const problem = parseProblem(change.path, text);
    if (problem) return { rule: prepared.rule.description, problem };
  }
  return undefined;
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
): VersionRewrite {
  const result = rewrite(repository, files, rules, values);
  const rewritten = new Map(result.changes.map((change) => [change.path, change.after]));
  let again: FileChange[];
  try {
    ({ changes: again } = rewrite(
      repository,
      files.map((file) => ({ path: file.path, content: rewritten.get(file.path) ?? file.content })),
      rules,
      values,
    ));
  } catch (error) {
    throw new UserError(`${repository}: version rules are not idempotent: over their own output, ${(error as Error).message}`);
  }
  if (again.length > 0) {
    const [change] = again;
    const first = change.before.split('\n');
    const second = change.after.split('\n');
    const line = first.findIndex((text, number) => text !== second[number]);
    const original = files.find((file) => file.path === change.path)?.content.split('\n')[line];
    throw new UserError(
      `${repository}: version rules are not idempotent: ${change.path}:${line + 1} (${change.rules.join(', ')}): ` +
        `${original === undefined ? '' : `'${original.trim()}' becomes `}'${first[line]?.trim()}' in the first pass and ` +
        `'${second[line]?.trim()}' in a second; anchor the rule's match so it does not match its own output`,
    );
  }
  return result;
}

function rewrite(repository: string, files: readonly SourceFile[], rules: readonly ConcreteRule[], values: TemplateValues): VersionRewrite {
  const templateContext = ruleValues(values);
  const changes = new Map<string, FileChange>();
  const applied: PreparedRule[] = [];
  const left = new Map<string, { path: string; line: number; text: string }>();
  for (const [index, current] of rules.entries()) {
    const prepared = prepareRule(current, index, templateContext);
    if (!prepared.appliesTo(repository) || !prepared.runsIn(String(values.kind))) continue;
    applied.push(prepared);
    let matched = false;
    for (const file of files) {
      if (!prepared.readsFile(file.path)) continue;
      const previous = changes.get(file.path);
      const before = previous?.after ?? file.content;
      const result = prepared.rewriteText(before);
      matched ||= result.matched;
      for (const spot of result.left) {
        const line = lineAt(before, spot.offset);
        const where = `${file.path}:${line}: ${spot.spot.trim()}`;
        if (!left.has(where)) {
          left.set(where, { path: file.path, line, text: `${where}: '${spot.value}' is not a version: left (${current.description})` });
        }
      }
      const after = result.text;
      if (after !== before || previous) {
        const change: FileChange = previous ?? { path: file.path, before: file.content, after, rules: [], encoding: file.encoding };
        change.after = after;
        if (after !== before) change.rules.push(current.description);
        changes.set(file.path, change);
      }
    }
    if (current.required && !matched) {
      throw new UserError(
        `${repository}: required rule ${prepared.where} matched nothing (file name /${current.type}/, spot /${current.match}/)`,
      );
    }
  }
  const result = [...changes.values()].filter((change) => change.after !== change.before);
  result.sort((a, b) => a.path.localeCompare(b.path));
  const warnings: string[] = [];
  for (const change of result) {
    const warning = checkParses(repository, change, applied);
    if (warning) warnings.push(warning);
    encodeSource(change);
  }
  const spots = [...left.values()].sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line);
  return { changes: result, warnings, left: spots.map((spot) => spot.text) };
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
