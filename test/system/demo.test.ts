import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { isPortOpen } from '../../src/dev/temporalServer';
import { runCliAsync } from '../support/cli';
import { tempDir, testServer } from '../support/temporal';

describe('relflow demo (the real binary, on the test server)', function () {
  this.timeout(300_000);

  it('runs a nightly and a GA with its gates approved through the CLI; a second run reuses the sandbox and releases the next GA', async function () {
    const demoDir = tempDir('demo');
    const env = { TEMPORAL_ADDRESS: testServer().address, RELFLOW_DEMO_DIR: demoDir, RELFLOW_WORKSPACE: tempDir('demo-workspace') };
    const first = await runCliAsync(['demo'], env);
    assert.equal(first.status, 0, `${first.stdout}\n${first.stderr}`);
    assert.match(first.stdout, /using the Temporal server already at /);
    assert.match(first.stdout, /\$ relflow approve \S+ pypi --by release-engineer/);
    assert.match(first.stdout, /\$ relflow approve \S+ docs --by release-engineer/);
    assert.match(first.stdout, /# demo ga release 3\.\d+/, 'the GA report');
    assert.match(first.stdout, /demo finished in \d+ s/);
    assert.ok(readdirSync(join(demoDir, 'remotes')).length >= 6, 'a sandbox product of six or more repositories');
    // The mails went through Mailpit's SMTP; the demo wrote what Mailpit received into its outbox.
    assert.match(first.stdout, /Mailpit SMTP at 127\.0\.0\.1:\d+ \(API http:\/\/127\.0\.0\.1:\d+\/api\/v1\/messages\)/);
    // Two announcements and the two gates' alerts.
    assert.match(first.stdout, /^\[relflow demo\] 4 mails received by Mailpit, written to \S+outbox;/m);
    const mails = readdirSync(join(demoDir, 'outbox'));
    assert.equal(mails.filter((file) => /_gate_of_demo_3\.\d+\.eml$/.test(file)).length, 2, mails.join(', '));
    const announcements = mails.filter((file) => file.endsWith('.eml.html'));
    assert.equal(announcements.length, 2, 'the announcements of both releases');
    for (const page of announcements) {
      const mail = readFileSync(join(demoDir, 'outbox', page.replace(/\.html$/, '')), 'utf8');
      assert.match(mail, /^Received: from .*\r?\n\s+by \S+ \(Mailpit\) with SMTP\s/m);
      assert.match(mail, /^Message-ID:\s+<relflow\.[0-9a-f]{32}\.announce@relflow\.invalid>\s/im);
    }
    assert.ok(
      readdirSync(join(demoDir, 'pypi')).some((file) => file.endsWith('.whl')),
      'wheels published to the demo PyPI',
    );
    assert.ok(existsSync(join(demoDir, 'mirror')));
    // It ends with what a new user opens: the Web UI, the announcement's HTML, the mirror.
    const [, announcement] = /the GA announcement {3}file:\/\/(\S+\.eml\.html)$/m.exec(first.stdout) ?? [];
    assert.ok(announcement && readFileSync(announcement, 'utf8').includes('<table>'), first.stdout);
    // What a downloader runs passes: every file against SHA256SUMS, and its signature against the demo's release key.
    assert.match(first.stdout, /\$ relflow verify demo-3\.\d+ --allowed-signers \S+allowed_signers/);
    assert.match(first.stdout, /^SHA256SUMS\.sig +signature +ok +Good "relflow-release" signature/m);
    assert.match(first.stdout, /^verified: \d+ checks hold$/m);
    // The GA's notes: in its report and its email.
    assert.match(first.stdout, /^## Release notes\n- cloudify-rest-client (first release|since 3\.\d+): /m);
    assert.match(readFileSync(announcement, 'utf8'), /<h3>Release notes<\/h3><h4>cloudify-rest-client/);
    assert.match(first.stdout.trim().split('\n').slice(-1)[0], /the mirrored files {4}file:\/\/\S+\/mirror$/);

    const firstGa = /# demo ga release (3\.\d+)/.exec(first.stdout)?.[1];
    const second = await runCliAsync(['demo'], env);
    assert.equal(second.status, 0, `${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /already ran today; showing it again/, 'the nightly of the day is not started twice');
    const secondGa = /# demo ga release (3\.\d+)/.exec(second.stdout)?.[1];
    assert.notEqual(secondGa, firstGa, 'the second run releases the next GA');
    assert.match(
      second.stdout,
      new RegExp(`^- cloudify-rest-client: no change since ${firstGa?.replace('.', '\\.')}$`, 'm'),
      'nothing but relflow commits since',
    );
  });

  it('a demo in its own directory without TEMPORAL_ADDRESS runs its own server, on free ports when 7233 and 8233 are taken, and says which', async function () {
    // Hold the default ports (when nothing else does) so the demo has to move.
    const held: Server[] = [];
    for (const port of [7233, 8233]) {
      if (await isPortOpen('127.0.0.1', port)) continue;
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      held.push(server);
    }
    try {
      const demoDir = tempDir('demo-own');
      const run = await runCliAsync(['demo'], {
        TEMPORAL_ADDRESS: '',
        RELFLOW_DEMO_DIR: demoDir,
        RELFLOW_WORKSPACE: tempDir('demo-own-workspace'),
      });
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      const [, frontend, ui] =
        /ports 7233 and 8233 are taken on 127\.0\.0\.1: this demo's server uses (\d+) \(Web UI (\d+)\)/.exec(run.stdout) ?? [];
      assert.ok(frontend && ui, run.stdout);
      assert.match(run.stdout, new RegExp(`export TEMPORAL_ADDRESS=127\\.0\\.0\\.1:${frontend}`));
      assert.match(
        run.stdout,
        new RegExp(
          `while \`relflow dev --port ${frontend} --ui-port ${ui} --db-file ${join(demoDir, 'temporal.db').replace(/[.]/g, '\\.')}\` runs`,
        ),
      );
      assert.ok(existsSync(join(demoDir, 'temporal.db')), "the demo's own server state is in its directory");
    } finally {
      for (const server of held) server.close();
    }
  });
});
