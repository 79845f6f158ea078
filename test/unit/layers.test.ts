import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../../src/worker/tools';
import { WORKFLOW_TYPES } from '../../src/release/model';
import * as workflows from '../../src/workflows';

/**
 * The house rules of DESIGN.md, read from the imports themselves: each folder
 * of src/ may use only the folders below it, and the workflow code reaches
 * nothing that is not deterministic.
 */
const MAY_USE: Record<string, string[]> = {
  config: [],
  release: ['config'],
  activities: ['config', 'release'],
  // Workflows see activities as types only: the proxies name them, the worker runs them.
  workflows: ['config', 'release'],
  worker: ['config', 'release', 'activities', 'workflows'],
  dev: ['config', 'release', 'activities', 'workflows', 'worker'],
  client: ['config', 'release', 'activities', 'workflows', 'worker', 'dev'],
};

const SRC = join(projectRoot, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const match of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?\s+from\s+'([^']+)'/gm))
    found.push({ specifier: match[3], typeOnly: Boolean(match[2]) });
  for (const match of text.matchAll(/(?:require|import)\(\s*'([^']+)'\s*\)/g)) found.push({ specifier: match[1], typeOnly: false });
  return found;
}

function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  // A dynamic import() names its file with .js, as Node's ESM loader requires.
  const base = resolve(dirname(from), specifier.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const folderOf = (file: string) => relative(SRC, file).split('/')[0];

describe('the house: which folder of src/ may use which (DESIGN.md)', function () {
  const files = sourceFiles(SRC);

  it('every import runs down, never back up (workflows use activities as types only)', function () {
    const wrong: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      assert.ok(from in MAY_USE, `src/${from} is a folder the house rules do not know: add it to MAY_USE`);
      for (const { specifier, typeOnly } of importsOf(file)) {
        const target = resolveLocal(file, specifier);
        if (!target) continue;
        const to = folderOf(target);
        if (to === from) continue;
        const allowed = MAY_USE[from].includes(to) || (from === 'workflows' && to === 'activities' && typeOnly);
        if (!allowed) wrong.push(`${relative(projectRoot, file)} imports ${specifier} (${from} -> ${to}${typeOnly ? ', type' : ''})`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('the workflow code reaches only deterministic modules: no Node built-ins, nothing but the workflow SDK', function () {
    const seen = new Set<string>();
    const wrong: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const { specifier, typeOnly } of importsOf(file)) {
        if (typeOnly) continue;
        const target = resolveLocal(file, specifier);
        if (target) visit(target);
        else if (specifier.startsWith('node:') || !['@temporalio/workflow', '@temporalio/common', 'zod', 'yaml'].includes(specifier)) {
          wrong.push(`${relative(projectRoot, file)} imports ${specifier}`);
        }
      }
    };
    visit(join(SRC, 'workflows', 'index.ts'));
    assert.ok(seen.size > 10, 'the walk found the workflow code');
    assert.deepEqual(wrong, []);
  });
});

describe('the workflow types', function () {
  it('WORKFLOW_TYPES, the only callers the activities accept, are exactly the workflows the workers register', function () {
    assert.deepEqual([...WORKFLOW_TYPES].sort(), Object.keys(workflows).sort());
  });
});
