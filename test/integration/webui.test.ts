import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { ManifestInput } from '../../src/config/manifest';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { releaseWorkflow } from '../../src/workflows';
import { fakeActivities, finishedNightly } from '../support/fakeActivities';
import { emailReport, releaseReport } from '../../src/release/report';
import { manifestOf } from '../support/manifests';
import { testClient, testUiUrl, uniqueTaskQueue, withWorkers } from '../support/temporal';

const CHROMIUM = '/usr/bin/chromium';

/** Debian's chromium, headless, with nothing of its own talking to the network. */
function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

describe('the Temporal Web UI shows releases by their search attributes (Debian chromium, playwright-core)', function () {
  this.timeout(180_000);

  before(function () {
    if (!existsSync(CHROMIUM)) this.skip();
  });

  it('finds a finished release by kind and product and reads its status', async function () {
    const taskQueue = uniqueTaskQueue('webui');
    const product = `webui${Date.now()}`;
    const manifest: ManifestInput = {
      product,
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: '/srv/core.git' }],
    };
    const { activities } = fakeActivities();
    const workflowId = await withWorkers({ taskQueue, activities }, async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `${product}-nightly-20261124`,
        args: [{ manifest: manifestOf(manifest), kind: 'nightly', date: '20261124', buildTaskQueue: `${taskQueue}-builds` }],
      });
      await handle.result();
      return handle.workflowId;
    });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const query = `ReleaseKind="nightly" AND ReleaseProduct="${product}" AND ReleaseStatus="succeeded"`;
      const url = `${testUiUrl()}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
      // The visibility store catches up within a moment: reload until the release is listed.
      let listed = false;
      for (let attempt = 0; attempt < 20 && !listed; attempt += 1) {
        await page.goto(url, { waitUntil: 'domcontentloaded' });
        listed = await page
          .getByText(workflowId)
          .first()
          .waitFor({ state: 'visible', timeout: 5000 })
          .then(() => true)
          .catch(() => false);
      }
      if (!listed) await page.screenshot({ path: '/tmp/relflow-webui-failure.png' });
      assert.ok(listed, `${workflowId} not listed at ${url} (screenshot /tmp/relflow-webui-failure.png)`);
      const row = page.locator('tr', { hasText: workflowId }).first();
      assert.match((await row.innerText()).toLowerCase(), /completed/);
      const href = await page.locator('a', { hasText: workflowId }).first().getAttribute('href');
      assert.ok(href, 'the release links to its page');
      await page.goto(new URL(href, testUiUrl()).toString(), { waitUntil: 'domcontentloaded' });
      await page.getByText(workflowId).first().waitFor({ state: 'visible', timeout: 15_000 });
      assert.match((await page.locator('body').innerText()).toLowerCase(), /completed/);
    } finally {
      await browser.close();
    }
  });

  it('a release waiting at a gate shows its summary, its stages and the exact approve command on its page', async function () {
    const taskQueue = uniqueTaskQueue('webui-gate');
    const product = `webuigate${Date.now()}`;
    const manifest: ManifestInput = {
      product,
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [{ name: 'core', url: '/srv/core.git', pypi: true }],
      pypi: { repositoryUrl: 'http://127.0.0.1:9/' },
      gates: { pypi: { approvers: ['alice'], timeout: '1h', reminderEvery: '1h' } },
    };
    const { activities } = fakeActivities();
    await withWorkers({ taskQueue, activities }, async () => {
      const handle = await testClient().workflow.start(releaseWorkflow, {
        taskQueue,
        workflowId: `${product}-3.4`,
        staticSummary: `${product} ga release 3.4`,
        args: [{ manifest: manifestOf(manifest), kind: 'ga', version: '3.4', buildTaskQueue: `${taskQueue}-builds` }],
      });
      const command = `relflow approve ${handle.workflowId} pypi --by <you>`;
      for (let attempt = 0; attempt < 100; attempt += 1) {
        if ((await handle.query(workflowMetadataQuery)).currentDetails?.includes(command)) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const browser = await launchChromium();
      try {
        const page = await browser.newPage({ viewport: { width: 1400, height: 2000 } });
        const url = `${testUiUrl()}/namespaces/default/workflows/${handle.workflowId}/${handle.firstExecutionRunId}/history`;
        // Web UI 2.42 shows the summary and the current details under its User Metadata tab, the Markdown in a sandboxed frame.
        const pageText = async () =>
          (
            await Promise.all(
              page.frames().map((frame) =>
                frame
                  .locator('body')
                  .innerText()
                  .catch(() => ''),
              ),
            )
          ).join('\n');
        let text = '';
        for (let attempt = 0; attempt < 10 && !text.includes(command); attempt += 1) {
          await page.goto(url, { waitUntil: 'domcontentloaded' });
          await page.getByText('User Metadata').first().click();
          for (let wait = 0; wait < 10 && !text.includes(command); wait += 1) {
            await page.waitForTimeout(500);
            text = await pageText();
          }
        }
        await page.screenshot({ path: '/tmp/relflow-webui-gate.png', fullPage: true });
        assert.ok(text.includes(command), `the approve command is not on ${url} (screenshot /tmp/relflow-webui-gate.png)`);
        assert.ok(text.includes(`${product} ga release 3.4`), 'the static summary');
        assert.ok(text.includes('Waiting at the pypi gate for alice'), 'the open gate and its approvers');
        assert.match(text, /10\s+pypi\s+running/, 'the stage list');
      } finally {
        await browser.close();
        await handle.terminate('test: the page was read');
      }
    });
  });

  it("the announcement's HTML renders as a table of packages in a browser: no raw Markdown, every file a link", async function () {
    const state = finishedNightly();
    const files = ['cloudify-ui-3.5.0-dev20261124-b82.tgz', 'SHA256SUMS', 'artifacts.json'].map((file, index) => ({
      name: file.split('-')[0],
      file,
      size: 1000 * (index + 1),
      sha256: String(index).repeat(64),
      urls: [`http://repository.example/org/p/nightly/20261124/${file}`],
    }));
    Object.assign(state, {
      build: 82,
      stored: files,
      repositories: [{ name: 'core', status: 'succeeded', tag: 'nightly-20261124', tagSha: 'a'.repeat(40) }],
      notes: [
        {
          repository: 'core',
          previous: 'nightly-20261123',
          changes: [
            { sha: 'c'.repeat(40), subject: 'Fix the parser (#12)', pullRequest: 12 },
            { sha: 'd'.repeat(40), subject: 'Update the README' },
          ],
          more: 0,
          authors: ['Alice', 'Bob'],
          pullUrl: 'https://github.com/org/core/pull/',
        },
        { repository: 'ui', previous: 'nightly-20261123', changes: [], more: 0, authors: [] },
      ],
    });
    const { html } = emailReport(releaseReport(state));
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
      await page.setContent(`<!doctype html><html><head><meta charset="utf-8"></head><body>${html ?? ''}</body></html>`);
      await page.screenshot({ path: '/tmp/relflow-announcement.png', fullPage: true });
      const rows = await page.locator('table tr').allInnerTexts();
      assert.equal(rows.length, 1 + files.length, rows.join('\n'));
      assert.match(rows[0], /Package\s+File\s+Size\s+sha256/);
      for (const file of files) {
        assert.equal(await page.locator(`a[href="${file.urls[0]}"]`).innerText(), file.file);
      }
      // The release notes: a heading per repository, a list of changes with pull requests as links.
      assert.deepEqual(await page.locator('h4').allInnerTexts(), ['core (since nightly-20261123)', 'ui (since nightly-20261123)']);
      assert.equal(await page.locator('a[href="https://github.com/org/core/pull/12"]').innerText(), '#12');
      assert.deepEqual(await page.locator('h4 + ul li').allInnerTexts(), ['Fix the parser (#12)', `Update the README (${'d'.repeat(12)})`]);
      const text = await page.locator('body').innerText();
      assert.match(text, /No change since nightly-20261123\./);
      assert.ok(!/\*\*|\|\s*---|^#+ |\]\(/m.test(text), `no raw Markdown in the mail:\n${text}`);
      assert.match(text, /Build number: 82/);
    } finally {
      await browser.close();
    }
  });
});
