import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { expandOutputs, machineOutputList } from '../../src/activities/builders/outputs';
import { unpackMachineOutputs } from '../../src/activities/builders/remoteMachine';
import type { BuildRequest, Machine } from '../../src/activities/builders/types';
import { tempDir } from '../support/temporal';

function tree(root: string, files: string[]): void {
  for (const file of files) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), file);
  }
}

/** What the build machine's shell lists for these patterns (its exit status and files, relative to the checkout). */
function onMachine(dir: string, patterns: string[]): { ok: boolean; files: string[]; output: string } {
  const list = join(dir, '..', 'outputs.list');
  try {
    const output = execFileSync('sh', ['-c', machineOutputList(patterns, list)], { cwd: dir, encoding: 'utf8' });
    const files = readFileSync(list, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.replace(/^\.\//, ''));
    return { ok: true, files: files.sort(), output };
  } catch (error) {
    return { ok: false, files: [], output: String((error as { stdout?: string }).stdout) };
  }
}

function invalidOutput(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure, String(error));
    assert.equal(error.type, 'InvalidOutput');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('build outputs are regular files under the output root, matched alike on the worker and on a machine', function () {
  it('one glob semantics: the worker (expandOutputs) and the machine (find | grep -E) match the same files', function () {
    const dir = tempDir('outputs-glob');
    tree(dir, [
      'dist/agent.tar.gz',
      'dist/sub/deep.tar.gz',
      'dist/agent.rpm',
      'pkg/a/b/c/x1.rpm',
      'x2.rpm',
      'README.md',
      '.git/config',
      '-rf',
      'a b.tgz',
    ]);
    const cases: string[][] = [['dist/*.tar.gz'], ['dist/**'], ['**/*.rpm'], ['**/x?.rpm'], ['*'], ['-rf', 'a b.tgz'], ['nothing/*']];
    for (const patterns of cases) {
      const worker = expandOutputs(dir, patterns, 'agent').map((path) => path.slice(dir.length + 1));
      const machine = onMachine(dir, patterns);
      assert.ok(machine.ok, machine.output);
      assert.deepEqual(machine.files, worker, patterns.join(' '));
      assert.ok(!worker.some((file) => file.startsWith('.git/')), '.git is never an output');
    }
    assert.deepEqual(
      expandOutputs(dir, ['**/*.rpm'], 'agent').map((path) => path.slice(dir.length + 1)),
      ['dist/agent.rpm', 'pkg/a/b/c/x1.rpm', 'x2.rpm'],
    );
  });

  it('a symbolic link, a FIFO or a file behind a linked directory is refused by name, never read', function () {
    const dir = tempDir('outputs-link');
    tree(dir, ['dist/real.tar.gz']);
    symlinkSync('/proc/self/environ', join(dir, 'dist', 'agent.tar.gz'));
    assert.throws(
      () => expandOutputs(dir, ['dist/*.tar.gz'], 'agent'),
      invalidOutput(/^agent: output dist\/agent\.tar\.gz is a symbolic link to \/proc\/self\/environ; build outputs must be regular files/),
    );
    const machine = onMachine(dir, ['dist/*.tar.gz']);
    assert.equal(machine.ok, false);
    assert.match(machine.output, /outputs that are not regular files: dist\/agent\.tar\.gz/);

    const fifo = tempDir('outputs-fifo');
    execFileSync('mkfifo', [join(fifo, 'agent.tar.gz')]);
    assert.throws(() => expandOutputs(fifo, ['*.tar.gz'], 'agent'), invalidOutput(/output agent\.tar\.gz is not a regular file/));

    // A linked directory is not walked: its files are not outputs at all.
    const linked = tempDir('outputs-linked-dir');
    mkdirSync(join(linked, 'dist'));
    symlinkSync('/etc', join(linked, 'dist', 'etc'));
    assert.deepEqual(expandOutputs(linked, ['dist/**/passwd'], 'agent'), []);
    assert.throws(() => expandOutputs(linked, ['dist/*'], 'agent'), invalidOutput(/output dist\/etc is a symbolic link to \/etc/));
    assert.deepEqual(onMachine(linked, ['dist/**/passwd']).files, []);
  });

  it("a machine's tarball with a link or a hard link is refused before anything is unpacked", async function () {
    const request = { artifact: { name: 'agent' }, machine: { id: 'i-0123', builder: 'ec2' } } as unknown as BuildRequest & {
      machine: Machine;
    };
    const hostile = async (
      build: (dir: string) => void,
      expected: RegExp,
      members: (src: string) => string[] = () => ['.'],
      flags = 'cf',
    ) => {
      const dir = tempDir('outputs-tar');
      const src = join(dir, 'src');
      mkdirSync(join(src, 'dist'), { recursive: true });
      build(src);
      execFileSync('tar', [flags, join(dir, 'outputs.tar'), '-C', src, ...members(src)]);
      const out = join(dir, 'out');
      mkdirSync(out);
      await assert.rejects(unpackMachineOutputs(request, join(dir, 'outputs.tar'), out, process.env), invalidOutput(expected));
      assert.deepEqual(execFileSync('find', [out, '-mindepth', '1'], { encoding: 'utf8' }), '', 'nothing was unpacked');
    };
    await hostile(
      (src) => symlinkSync('/proc/self/environ', join(src, 'dist', 'agent.tar.gz')),
      /^agent: the outputs of i-0123 hold 1 entries that are not regular files \(\.\/dist\/agent\.tar\.gz -> \/proc\/self\/environ\)/,
    );
    await hostile((src) => {
      writeFileSync(join(src, 'dist', 'a'), 'a');
      execFileSync('ln', [join(src, 'dist', 'a'), join(src, 'dist', 'b')]);
    }, /hold 1 entries that are not regular files \(\.\/dist\/[ab] link to \.\/dist\/[ab]\)/);
    // A link listed first, before 400 files: the whole listing is read, not its last 20 kB.
    const many = Array.from(
      { length: 400 },
      (_, index) => `./dist/agent-package-with-a-long-descriptive-name-${String(index).padStart(4, '0')}.rpm`,
    );
    await hostile(
      (src) => {
        symlinkSync('/proc/self/environ', join(src, 'dist', 'first'));
        for (const file of many) writeFileSync(join(src, file), 'rpm');
      },
      /hold 1 entries that are not regular files \(\.\/dist\/first -> \/proc\/self\/environ\)/,
      () => ['./dist/first', ...many],
    );
    // 10 kB on the wire that would unpack into 1 GiB.
    await hostile(
      (src) => execFileSync('truncate', ['-s', '1G', join(src, 'dist', 'agent.tar.gz')]),
      /^agent: the outputs of i-0123 declare 1073741824 bytes in a tarball of \d+ \(a sparse or forged member\)/,
      () => ['./dist/agent.tar.gz'],
      '-cSf',
    );

    // Regular files unpack with the worker's owner.
    const dir = tempDir('outputs-tar-ok');
    tree(join(dir, 'src'), ['dist/agent.tar.gz']);
    execFileSync('tar', ['cf', join(dir, 'outputs.tar'), '-C', join(dir, 'src'), './dist/agent.tar.gz']);
    mkdirSync(join(dir, 'out'));
    await unpackMachineOutputs(request, join(dir, 'outputs.tar'), join(dir, 'out'), process.env);
    assert.deepEqual(
      expandOutputs(join(dir, 'out'), ['dist/*'], 'agent').map((path) => readFileSync(path, 'utf8')),
      ['dist/agent.tar.gz'],
    );
  });
});
