import { strict as assert } from 'node:assert';
import { formatReport, runChaos } from '../../chaos/run';
import { systemServer } from '../support/systemServer';

describe('the short chaos run (npm run chaos -- --short): 3 worker kills and 1 server kill on the production topology', function () {
  this.timeout(900_000);

  it('finishes the GA with every effect exactly once', async function () {
    const report = await runChaos({ seed: 1, short: true, shared: await systemServer() });
    const text = formatReport(report);
    assert.equal(report.faults.length, 4, text);
    assert.deepEqual(
      report.faults.filter((row) => !row.passed).map((row) => `${row.when}: ${row.outcome}`),
      [],
      text,
    );
    assert.deepEqual(
      report.checks.filter((check) => !check.passed || check.duplicates > 0).map((check) => `${check.check}: ${check.detail}`),
      [],
      text,
    );
  });
});
