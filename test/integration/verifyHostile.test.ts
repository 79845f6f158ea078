import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCliAsync } from '../support/cli';
import { removeTempDirs, tempDir } from '../support/tempDirs';

/** relflow verify against directories and URLs an attacker (or a broken mirror) serves: one line each, never a stack trace. */
describe('relflow verify on hostile directories and URLs', function () {
  let server: Server;
  let base: string;
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');

  before(async function () {
    server = createServer((request, response) => {
      const path = request.url ?? '/';
      if (path.startsWith('/loop/')) {
        response.writeHead(302, { location: path });
        return response.end();
      }
      if (path.startsWith('/forbidden/')) {
        response.writeHead(403);
        return response.end('no');
      }
      if (path === '/short/SHA256SUMS') {
        // Says 1000 bytes, sends 10, and hangs up.
        response.writeHead(200, { 'content-length': '1000' });
        response.write('0123456789');
        return response.socket?.destroy();
      }
      response.writeHead(404);
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    await new Promise((resolve) => server.close(resolve));
    removeTempDirs();
  });

  const verify = (location: string, cwd?: string) =>
    runCliAsync(['verify', location, '--no-source'], { TEMPORAL_ADDRESS: '127.0.0.1:1' }, cwd);

  it('a SHA256SUMS that lists a file twice, or a million lines, is refused by its line', async function () {
    const twice = tempDir('verify-twice');
    writeFileSync(join(twice, 'a.tgz'), 'a');
    writeFileSync(join(twice, 'SHA256SUMS'), `${sha('a')}  a.tgz\n${sha('b')}  a.tgz\n`);
    const listedTwice = await verify(twice);
    assert.equal(listedTwice.status, 2);
    assert.equal(listedTwice.stderr, 'relflow: SHA256SUMS line 2: a.tgz is listed again (first on line 1)\n');

    const huge = tempDir('verify-huge');
    writeFileSync(join(huge, 'SHA256SUMS'), Array.from({ length: 1_000_000 }, (_, index) => `${'0'.repeat(64)}  f${index}`).join('\n'));
    const million = await verify(huge);
    assert.equal(million.status, 2);
    assert.equal(million.stderr, 'relflow: SHA256SUMS: 1000000 lines; a release lists at most 10000 files\n');
  });

  it('an empty SHA256SUMS, and a file name with a NUL, are refused in one line: no check passes with no file checked', async function () {
    const empty = tempDir('verify-empty');
    writeFileSync(join(empty, 'SHA256SUMS'), '\n');
    const none = await verify(empty);
    assert.equal(none.status, 2);
    assert.equal(none.stderr, 'relflow: SHA256SUMS: lists no file; a release lists every file it stores\n');

    const nul = tempDir('verify-nul');
    writeFileSync(join(nul, 'SHA256SUMS'), `${sha('a')}  a\u0000b.tgz\n`);
    const withNul = await verify(nul);
    assert.equal(withNul.status, 2);
    assert.equal(withNul.stderr, 'relflow: SHA256SUMS line 1: the file name has a control character ("a\\u0000b.tgz")\n');
  });

  it('a redirect loop, a body cut short, a 403 and a host that refuses are each one line naming the URL', async function () {
    // A port that was just free: nothing listens there.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const cases: [string, RegExp][] = [
      [`${base}/loop/artifacts.json`, /^relflow: http:\/\/127\.0\.0\.1:\d+\/loop\/SHA256SUMS: cannot be fetched \(.+\)\n$/],
      [`${base}/short/artifacts.json`, /^relflow: http:\/\/127\.0\.0\.1:\d+\/short\/SHA256SUMS: cannot be fetched \(.+\)\n$/],
      [
        `${base}/forbidden/artifacts.json`,
        /^relflow: http:\/\/127\.0\.0\.1:\d+\/forbidden\/SHA256SUMS: HTTP 403 \(forbidden: .*not the same as missing\)\n$/,
      ],
      [
        `http://127.0.0.1:${port}/r/artifacts.json`,
        new RegExp(`^relflow: http://127\\.0\\.0\\.1:${port}/r/SHA256SUMS: cannot be fetched \\(ECONNREFUSED\\)\n$`),
      ],
    ];
    for (const [url, expected] of cases) {
      const result = await verify(url);
      assert.equal(result.status, 2, `${url}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
  });

  it('a directory named like a release ID (m5-RELEASE, without ./) is read as the directory, not looked up on the server', async function () {
    const root = tempDir('verify-dir');
    const dir = join(root, 'm5-RELEASE');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.tgz'), 'a');
    writeFileSync(join(dir, 'SHA256SUMS'), `${sha('a')}  a.tgz\n`);
    const result = await verify('m5-RELEASE', root);
    assert.doesNotMatch(result.stderr, /Temporal/);
    assert.match(result.stdout, new RegExp(`^a\\.tgz +sha256 +ok +${sha('a')}$`, 'm'));
    assert.match(result.stdout, /^SHA256SUMS\.sig +signature +FAILED +missing: the release is not signed$/m);
    assert.equal(result.status, 1);
  });
});
