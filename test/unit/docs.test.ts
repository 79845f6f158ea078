import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from '../../src/config/project';

/** The README a newcomer reads in minutes, and the reference in docs/ it points to. */
describe('the README and docs/', function () {
  const files = ['README.md', ...readdirSync(join(projectRoot, 'docs')).map((name) => join('docs', name))];

  it('the README stays short: what relflow is, the two commands, the tests, the layout, links to docs/', function () {
    const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
    assert.ok(readme.split('\n').length <= 200, `README.md has ${readme.split('\n').length} lines; the reference goes in docs/`);
    for (const doc of readdirSync(join(projectRoot, 'docs'))) assert.ok(readme.includes(`(docs/${doc})`), `the README links docs/${doc}`);
  });

  it('every relative link and every file path in backquotes names a file that exists', function () {
    const missing: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(projectRoot, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#:]+)(?:#[^)]*)?\)/g)) {
        if (!existsSync(join(projectRoot, dirname(file), target))) missing.push(`${file}: link ${target}`);
      }
      for (const [, path] of text.matchAll(/`((?:src|test|scripts|bench|chaos)\/[\w./-]+\.(?:ts|mjs|json|sh|txt))`/g)) {
        if (!existsSync(join(projectRoot, path))) missing.push(`${file}: ${path}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
