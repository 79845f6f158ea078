import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { projectRoot } from '../../src/config/project';
import { parseCron, parseNightlyDate, parsePerson } from '../../src/client/options';

const refusal = (parse: () => unknown) => {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, String(error));
    return error.message;
  }
  assert.fail('accepted');
};

describe('CLI arguments: refused by their parser with what was expected, before anything connects', function () {
  it('--cron: five fields, each in its range, names for months and weekdays', function () {
    for (const good of ['0 2 * * *', '*/15 0-6 1,15 JAN-MAR mon-fri', '30 23 31 12 7', '0 0 * * SUN'])
      assert.equal(parseCron(` ${good} `), good);
    assert.match(
      refusal(() => parseCron('99 99 * * *')),
      /^minute '99': expected 0-59 /,
    );
    assert.match(
      refusal(() => parseCron('0 24 * * *')),
      /^hour '24': expected 0-23 /,
    );
    assert.match(
      refusal(() => parseCron('0 2 0 * *')),
      /^day of month '0': expected 1-31 /,
    );
    assert.match(
      refusal(() => parseCron('0 2 * 13 *')),
      /^month '13': expected 1-12 or JAN-DEC /,
    );
    assert.match(
      refusal(() => parseCron('0 2 * * 8')),
      /^day of week '8': expected 0-7 or SUN-SAT /,
    );
    assert.match(
      refusal(() => parseCron('0 6-2 * * *')),
      /^hour '6-2': the range runs backwards/,
    );
    assert.match(
      refusal(() => parseCron('*/0 * * * *')),
      /^minute '\*\/0': a bad step/,
    );
    assert.match(
      refusal(() => parseCron('every night')),
      /^expected five cron fields/,
    );
  });

  it('--date: a day that exists, from ten years back to a day ahead of today', function () {
    const today = new Date('2026-12-02T13:00:00Z');
    assert.equal(parseNightlyDate('20261202', today), '20261202');
    assert.equal(parseNightlyDate('20261203', today), '20261203');
    assert.equal(parseNightlyDate('20161202', today), '20161202');
    assert.match(
      refusal(() => parseNightlyDate('99991231', today)),
      /^expected a day from 20161202 to 20261203 /,
    );
    assert.match(
      refusal(() => parseNightlyDate('20261204', today)),
      /^expected a day from/,
    );
    assert.match(
      refusal(() => parseNightlyDate('20161201', today)),
      /^expected a day from/,
    );
    assert.match(
      refusal(() => parseNightlyDate('20261340', today)),
      /^expected a date as YYYYMMDD/,
    );
  });

  it('--by: a printable name of at most 64 characters', function () {
    assert.equal(parsePerson('alice@example.com'), 'alice@example.com');
    assert.match(
      refusal(() => parsePerson('alice\napproved by: bob')),
      /without control characters/,
    );
    assert.match(
      refusal(() => parsePerson('a\u001b[31m')),
      /without control characters/,
    );
    assert.match(
      refusal(() => parsePerson('x'.repeat(65))),
      /at most 64 characters/,
    );
    assert.match(
      refusal(() => parsePerson('')),
      /expected a name/,
    );
  });

  it('a reader that closes the pipe early (relflow --help | head -1) ends relflow quietly, exit 0', async function () {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'relflow'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
