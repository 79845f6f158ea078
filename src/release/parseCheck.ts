import { parseAllDocuments } from 'yaml';

// smol-toml declares its types as ECMAScript modules only; its package also ships the CommonJS build this project loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { parse: parseToml, TomlError } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

/** Why a file does not parse, and on which line (1-based) when the parser says. */
export interface ParseProblem {
  line?: number;
  message: string;
}

/** Larger files are not parse-checked: the check must stay quick whatever a repository holds. */
export const MAX_CHECKED_BYTES = 8 * 1024 * 1024;

type Checker = (content: string) => ParseProblem | undefined;

/**
 * YAML as the products' own tooling (PyYAML) reads it: YAML 1.1, merge keys
 * (repeated `<<` too), duplicate keys (the last wins). Aliases are never
 * expanded (the documents are only composed), so no alias count can blow up.
 */
function checkYaml(content: string): ParseProblem | undefined {
  for (const document of parseAllDocuments(content, { version: '1.1', merge: true, uniqueKeys: false })) {
    const [error] = document.errors;
    if (error) return { line: error.linePos?.[0].line, message: error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '') };
  }
  return undefined;
}

/** The 1-based line of an offset in a text. */
export function lineAt(content: string, offset: number): number {
  let line = 1;
  for (let index = 0; index < offset && index < content.length; index += 1) if (content[index] === '\n') line += 1;
  return line;
}

function checkJson(content: string): ParseProblem | undefined {
  try {
    JSON.parse(content);
    return undefined;
  } catch (error) {
    // V8 names a position for some errors only: the scan finds where the text stops being JSON.
    return { line: lineAt(content, jsonErrorOffset(content)), message: (error as Error).message.split('\n')[0] };
  }
}

/** The offset where `text` stops being JSON (RFC 8259), by a scan that only validates. */
function jsonErrorOffset(text: string): number {
  let at = 0;
  const space = () => {
    while (at < text.length && ' \t\n\r'.includes(text[at])) at += 1;
  };
  const fail = (): never => {
    throw at;
  };
  const literal = (word: string) => (text.startsWith(word, at) ? (at += word.length) : fail());
  const string = () => {
    at += 1;
    while (at < text.length && text[at] !== '"') {
      if (text.charCodeAt(at) < 0x20) fail();
      at += text[at] === '\\' ? 2 : 1;
    }
    if (at >= text.length) fail();
    at += 1;
  };
  const number = () => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at, at + 400));
    if (!match) fail();
    at += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    space();
    const character = text[at];
    if (character === '{') {
      at += 1;
      space();
      if (text[at] === '}') {
        at += 1;
        return;
      }
      for (;;) {
        space();
        if (text[at] !== '"') fail();
        string();
        space();
        if (text[at] !== ':') fail();
        at += 1;
        value();
        space();
        if (text[at] === ',') at += 1;
        else if (text[at] === '}') return void (at += 1);
        else fail();
      }
    }
    if (character === '[') {
      at += 1;
      space();
      if (text[at] === ']') {
        at += 1;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[at] === ',') at += 1;
        else if (text[at] === ']') return void (at += 1);
        else fail();
      }
    }
    if (character === '"') return string();
    if (character === 't') return void literal('true');
    if (character === 'f') return void literal('false');
    if (character === 'n') return void literal('null');
    number();
  };
  try {
    value();
    space();
    return at;
  } catch (offset) {
    return offset as number;
  }
}

function checkToml(content: string): ParseProblem | undefined {
  try {
    parseToml(content);
    return undefined;
  } catch (error) {
    if (error instanceof TomlError) return { line: error.line, message: error.message.split('\n')[0] };
    return { message: (error as Error).message };
  }
}

const CLOSING: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * Python source, tokenized as far as a version rewrite can break it: every
 * string literal closed (with its prefix and triple quotes), comments, and
 * brackets balanced. Not a full parse: it needs no Python where `relflow plan` runs.
 */
function checkPython(content: string): ParseProblem | undefined {
  const open: { bracket: string; line: number }[] = [];
  let line = 1;
  for (let index = 0; index < content.length; index += 1) {
    const character = content[index];
    if (character === '\n') {
      line += 1;
    } else if (character === '#') {
      while (index + 1 < content.length && content[index + 1] !== '\n') index += 1;
    } else if (character === "'" || character === '"') {
      const startLine = line;
      const triple = content.startsWith(character.repeat(3), index);
      const quote = triple ? character.repeat(3) : character;
      index += quote.length;
      for (;;) {
        if (index >= content.length) return { line: startLine, message: `unterminated string literal (opened with ${quote})` };
        const inside = content[index];
        if (inside === '\\') {
          if (content[index + 1] === '\n') line += 1;
          index += 2;
          continue;
        }
        if (inside === '\n') {
          if (!triple) return { line: startLine, message: `unterminated string literal (opened with ${quote})` };
          line += 1;
        }
        if (content.startsWith(quote, index)) {
          index += quote.length - 1;
          break;
        }
        index += 1;
      }
    } else if (character in CLOSING) {
      open.push({ bracket: character, line });
    } else if (character === ')' || character === ']' || character === '}') {
      const last = open.pop();
      if (!last) return { line, message: `unmatched '${character}'` };
      if (CLOSING[last.bracket] !== character) {
        return { line, message: `'${character}' does not match '${last.bracket}' on line ${last.line}` };
      }
    }
  }
  const unclosed = open.pop();
  return unclosed ? { line: unclosed.line, message: `'${unclosed.bracket}' was never closed` } : undefined;
}

function checkerFor(path: string): Checker | undefined {
  if (/\.ya?ml$/i.test(path)) return checkYaml;
  if (/\.json$/i.test(path)) return checkJson;
  if (/\.toml$/i.test(path)) return checkToml;
  if (/\.py$/i.test(path)) return checkPython;
  return undefined;
}

/** Whether relflow checks that this kind of file still parses after a rewrite (YAML, JSON, TOML, Python). */
export function isParseChecked(path: string): boolean {
  return checkerFor(path) !== undefined;
}

/** The problem that stops `content` parsing as the kind of file `path` names; undefined when it parses or is not a checked kind. */
export function parseProblem(path: string, content: string): ParseProblem | undefined {
  return checkerFor(path)?.(content);
}

export function describeProblem(problem: ParseProblem): string {
  return `${problem.line !== undefined ? `line ${problem.line}: ` : ''}${problem.message}`;
}
