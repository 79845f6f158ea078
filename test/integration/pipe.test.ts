import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { RELFLOW_BIN } from '../support/cli';
import { createRemote } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { tempDir } from '../support/temporal';

describe('output that pipes', function () {
  it('`relflow plan --json` through a slow pipe delivers every byte before the process exits', async function () {
    const root = tempDir('pipe');
    // A setup.py of 300 KB: the plan's JSON carries it before and after, far more than a pipe buffer.
    const big = `setup(version='3.3')\n${'# padding line of the setup file\n'.repeat(9000)}`;
    const remote = createRemote(root, { name: 'core', files: { 'setup.py': big } });
    const config = writeManifest(root, {
      product: 'pipe',
      versions: { core: '3.4', plugins: '1.4' },
      repositories: [{ name: 'core', url: remote }],
    });
    const child = spawn(process.execPath, [RELFLOW_BIN, 'plan', 'ga', '--version', '3.4', '-c', config, '--json']);
    const chunks: Buffer[] = [];
    // A reader slower than the writer, as `| jq` on a busy machine.
    child.stdout.pause();
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const ended = new Promise((resolve) => child.stdout.on('end', resolve));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdout.resume();
    const code = await exited;
    await ended;
    assert.equal(code, 0);
    const output = Buffer.concat(chunks).toString('utf8');
    assert.ok(output.length > 500_000, `${output.length} bytes`);
    const report = JSON.parse(output) as { repositories: { changes: unknown[] }[] };
    assert.equal(report.repositories[0].changes.length, 1);
  });
});
