import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeRuntimeNotice } from '../../src/worker/nodeRuntime';
import { projectRoot } from '../../src/worker/tools';

describe('the Node runtime: 24 LTS in production, a warning on an end-of-life Node', function () {
  it('a worker names its Node, and warns once that Node 20 is past its end of life', function () {
    const today = new Date('2026-11-28T12:00:00Z');
    assert.deepEqual(nodeRuntimeNotice('v24.21.0', today), { line: 'Node v24.21.0' });
    assert.deepEqual(nodeRuntimeNotice('v22.12.0', today), { line: 'Node v22.12.0' });
    const old = nodeRuntimeNotice('v20.20.2', today);
    assert.equal(old.line, 'Node v20.20.2');
    assert.match(
      old.warning ?? '',
      /^Node 20 reached its end of life on 2026-04-30 and gets no security fixes: run relflow workers on Node 24 LTS/,
    );
    assert.equal(nodeRuntimeNotice('v20.20.2', new Date('2026-04-01T00:00:00Z')).warning, undefined, 'not before its end');
  });

  it('npm test runs the whole suite once on Node 24 LTS, and the unit layer and a smoke on the machine’s Node', function () {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as {
      engines: { node: string };
      scripts: Record<string, string>;
    };
    assert.equal(pkg.engines.node, '>=20.3');
    assert.match(pkg.scripts.test, /bootstrap\.mjs --production --node24 .* && npm run test:node24 && npm run test:machine-node$/);
    assert.equal(pkg.scripts['test:node24'], 'node scripts/on-node24.mjs node_modules/mocha/bin/mocha.js');
    const smoke = /^mocha --config test\/mocha\/unit\.json && mocha --config test\/mocha\/integration\.json --grep '([^']+)'$/.exec(
      pkg.scripts['test:machine-node'],
    );
    assert.ok(smoke, pkg.scripts['test:machine-node']);
    // Each title of the smoke names a test that exists: a renamed test would leave the machine's Node untested.
    const integration = join(projectRoot, 'test', 'integration');
    const titles = readdirSync(integration)
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => readFileSync(join(integration, file), 'utf8'))
      .join('\n');
    const tests = titles.split('\n').filter((line) => /^\s*it\(/.test(line));
    for (const title of smoke[1].split('|'))
      assert.ok(
        tests.some((line) => line.includes(title)),
        `no integration test titled ${title}`,
      );
  });
});
