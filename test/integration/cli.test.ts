import type Long from 'long';
import { readFileSync, writeFileSync } from 'node:fs';
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createRemote } from '../support/gitRepos';
import { writeManifest } from '../support/manifests';
import { RELFLOW_BIN, runCli, runCliAsync } from '../support/cli';
import { createTestWorker, tempDir, testClient, testServer, uniqueTaskQueue, until } from '../support/temporal';
import { freePort, isPortOpen } from '../../src/dev/temporalServer';
import { projectRoot } from '../../src/worker/tools';
import type { Command } from 'commander';
import { buildProgram } from '../../src/client/cli';

function oneLineError(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected a one-line error, got:\n${stderr}`);
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace for user errors');
  return lines[0];
}

describe('relflow CLI', function () {
  let root: string;
  let config: string;

  before(function () {
    root = tempDir('cli');
    const repo = createRemote(root, { name: 'core', files: { 'setup.py': "setup(version='3.4')\n" } });
    const other = createRemote(root, { name: 'ui', files: { 'package.json': '{"version": "3.4.0"}\n' } });
    config = writeManifest(root, {
      product: 'clitest',
      versions: { core: '3.5', plugins: '1.5' },
      repositories: [
        { name: 'core', url: repo },
        { name: 'ui', url: other },
      ],
    });
  });

  it('the bootstrap names a missing Go and how to install it, before building anything', function () {
    const result = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'bootstrap.mjs')], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', HOME: process.env.HOME, RELFLOW_CACHE_DIR: tempDir('empty-cache') },
    });
    assert.equal(result.status, 2);
    assert.match(
      result.stderr,
      /^relflow bootstrap: the Temporal CLI v[\d.]+ is not built yet and `go` is not on PATH: install Go >= 1\.25 .*RELFLOW_TEMPORAL_CLI/,
    );
  });

  it('prints help with a description and an example for every command', function () {
    const paths: string[][] = [];
    const walk = (command: Command, path: string[]) => {
      for (const sub of command.commands) {
        if (sub.commands.length > 0) walk(sub, [...path, sub.name()]);
        else paths.push([...path, sub.name()]);
      }
    };
    walk(buildProgram(), []);
    assert.ok(paths.length >= 26, `${paths.length} commands`);
    for (const path of paths) {
      const result = runCli([...path, '--help']);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /^Usage: relflow /, path.join(' '));
      assert.match(result.stdout, /\n\n\S.*\n/, `relflow ${path.join(' ')} --help has a description`);
      assert.match(result.stdout, /Examples?:\n {2}.*\brelflow /, `relflow ${path.join(' ')} --help has an example`);
    }
  });

  it('names an unreadable manifest on one line, exit 2', function () {
    const result = runCli(['start', 'nightly', '-c', join(root, 'missing.yaml')]);
    assert.equal(result.status, 2);
    assert.equal(oneLineError(result.stderr), `relflow: ${join(root, 'missing.yaml')}: cannot read the manifest (no such file)`);
  });

  it('names an unknown repository URL before starting anything', function () {
    const bad = writeManifest(
      root,
      {
        product: 'clitest',
        versions: { core: '3.5', plugins: '1.5' },
        repositories: [{ name: 'core', url: join(root, 'remotes', 'nope.git') }],
      },
      'bad-url.yaml',
    );
    const result = runCli(['start', 'nightly', '-c', bad], { TEMPORAL_ADDRESS: testServer().address });
    assert.equal(result.status, 2);
    assert.match(oneLineError(result.stderr), /^relflow: repositories\[0\]\.url: cannot reach '.*nope\.git'/);
  });

  it('says when no Temporal server is reachable at TEMPORAL_ADDRESS', async function () {
    const port = await freePort();
    const result = runCli(['start', 'nightly', '-c', config], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    assert.equal(result.status, 2);
    assert.match(
      oneLineError(result.stderr),
      new RegExp(`^relflow: no Temporal server reachable at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS\\)`),
    );
  });

  it('names missing search attributes and the command that creates them (start and worker), on a namespace without them', async function () {
    const namespace = `bare-${process.pid}-${Date.now()}`;
    // protobufjs takes a number where the type says Long.
    await testClient().workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: { seconds: 86_400 as unknown as Long },
    });
    const env = { TEMPORAL_ADDRESS: testServer().address, TEMPORAL_NAMESPACE: namespace, RELFLOW_TASK_QUEUE: uniqueTaskQueue('bare') };
    const expected = new RegExp(
      `^relflow: namespace '${namespace}' lacks relflow's search attributes ReleaseKind, ReleaseVersion, ReleaseStage, ReleaseProduct, ReleaseStatus: create them with ` +
        `\`TEMPORAL_NAMESPACE=${namespace} relflow setup-namespace\``,
    );
    let started = runCli(['start', 'nightly', '-c', config, '--date', '20260909'], env);
    // A namespace is known to every frontend a moment after it is registered.
    for (let attempt = 0; attempt < 20 && /Namespace .* is not found/i.test(started.stderr); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      started = runCli(['start', 'nightly', '-c', config, '--date', '20260909'], env);
    }
    assert.equal(started.status, 2, started.stderr);
    assert.match(oneLineError(started.stderr), expected);
    const worker = runCli(['worker'], env);
    assert.equal(worker.status, 2, worker.stderr);
    assert.match(oneLineError(worker.stderr), expected);
    // The command it names makes them; run again, it changes nothing.
    const setup = runCli(['setup-namespace'], env);
    assert.equal(setup.status, 0, setup.stderr);
    assert.equal(
      setup.stdout.trim(),
      `namespace ${namespace}: exists (kept as it is); search attributes: added ReleaseKind, ReleaseVersion, ReleaseStage, ReleaseProduct, ReleaseStatus`,
    );
    const again = runCli(['setup-namespace'], env);
    assert.equal(again.stdout.trim(), `namespace ${namespace}: exists (kept as it is); search attributes: all present`);
    const fresh = runCli(['setup-namespace', '--retention', '7d'], { ...env, TEMPORAL_NAMESPACE: `${namespace}-new` });
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.match(fresh.stdout, /: registered \(retention 7d\); search attributes: added ReleaseKind, /);
    const bad = runCli(['setup-namespace', '--retention', 'forever'], env);
    assert.equal(bad.status, 2);
  });

  it('rejects an unknown release kind and a bad version with exit 2', function () {
    assert.equal(runCli(['start', 'weekly', '-c', config]).status, 2);
    const result = runCli(['start', 'milestone', '--version', '3.4m', '-c', config]);
    assert.equal(result.status, 2);
    assert.equal(
      oneLineError(result.stderr),
      "relflow: invalid milestone version '3.4m': a milestone needs its number: write 3.4m1 (or the number it is)",
    );
  });

  it('starts a nightly and shows its status from the query', async function () {
    const taskQueue = uniqueTaskQueue('cli');
    const worker = await createTestWorker({ taskQueue });
    const env = { TEMPORAL_ADDRESS: testServer().address, RELFLOW_TASK_QUEUE: taskQueue };
    await worker.runUntil(async () => {
      const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20260101', '--json'], env);
      assert.equal(started.status, 0, started.stderr);
      const { releaseId } = JSON.parse(started.stdout) as { releaseId: string };
      assert.equal(releaseId, 'clitest-nightly-20260101');
      const client = new Client({ connection: await Connection.connect({ address: testServer().address }) });
      await client.workflow.getHandle(releaseId).result();
      // The Web UI's summary and details of the release, set by the CLI when it starts it.
      const description = await client.workflow.getHandle(releaseId).describe();
      assert.equal(await description.staticSummary(), 'clitest nightly release nightly-20260101');
      const details = (await description.staticDetails()) ?? '';
      assert.match(details, /^Started by \S+ with `relflow start nightly`\.$/m);
      assert.ok(details.includes(`- manifest: \`${config}\``), details);
      assert.ok(details.includes(`\`relflow watch ${releaseId}\``), details);
      const status = await runCliAsync(['status', releaseId], env);
      assert.equal(status.status, 0, status.stderr);
      assert.match(status.stdout, /status\s+succeeded/);
      assert.match(status.stdout, /core\s+succeeded\s+[0-9a-f]{12}/);
      const again = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20260101'], env);
      assert.equal(again.status, 0, 'a succeeded release started again is reported, not started');
      assert.match(
        again.stdout,
        /nightly release nightly-20260101 \(clitest-nightly-20260101\) already succeeded; nothing started \(already released\)/,
      );
      assert.match(again.stdout, /^# /m, 'the report of the release follows');
      assert.ok(again.stdout.includes(releaseId), again.stdout);
      await client.connection.close();
    });
  });

  it('`relflow worker` runs releases from its task queue and stops on SIGINT; it loads the bundle `--write-bundle` wrote', async function () {
    const queue = uniqueTaskQueue('cli-worker');
    const bundle = join(tempDir('bundle'), 'workflows.js');
    const written = await runCliAsync(['worker', '--write-bundle', bundle], {});
    assert.equal(written.status, 0, written.stderr);
    assert.match(
      written.stdout,
      new RegExp(`^workflow bundle written to ${bundle} \\(\\d+ KiB\\): start workers with RELFLOW_WORKFLOW_BUNDLE=`),
    );
    assert.match(readFileSync(bundle, 'utf8'), /releaseWorkflow/);
    // A python3 on PATH without build and twine, as on many hosts: the worker must not pick it.
    const stubs = tempDir('python-stub');
    writeFileSync(join(stubs, 'python3'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const metricsAddress = `127.0.0.1:${await freePort()}`;
    const worker = spawn(
      process.execPath,
      [RELFLOW_BIN, 'worker', '--task-queue', queue, '--workspace', tempDir('cli-worker'), '--max-activities', '4'],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: testServer().address,
          PATH: `${stubs}:${process.env.PATH}`,
          RELFLOW_PYTHON: '',
          RELFLOW_METRICS_ADDRESS: metricsAddress,
          RELFLOW_WORKFLOW_BUNDLE: bundle,
        },
      },
    );
    let output = '';
    worker.stdout.on('data', (chunk) => (output += chunk));
    worker.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => worker.on('close', resolve));
    for (let waited = 0; !output.includes(`polling '${queue}'`) && waited < 60_000; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20260307', '--json'], {
      TEMPORAL_ADDRESS: testServer().address,
      RELFLOW_TASK_QUEUE: queue,
    });
    assert.equal(started.status, 0, started.stderr);
    const id = (JSON.parse(started.stdout) as { releaseId: string }).releaseId;
    const client = new Client({ connection: await Connection.connect({ address: testServer().address }) });
    const state = (await client.workflow.getHandle(id).result()) as { status: string; repositories: { baseSha?: string }[] };
    await client.connection.close();
    assert.equal(state.status, 'succeeded');
    assert.equal(state.repositories.filter((repository) => repository.baseSha).length, 2, 'the worker checked out both repositories');
    // The worker's Prometheus endpoint: the SDK's series and relflow's, with their labels.
    assert.ok(output.includes(`Prometheus metrics on http://${metricsAddress}/metrics`), output);
    let metrics = '';
    for (let attempt = 0; attempt < 20 && !/relflow_releases_finished/.test(metrics); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
    }
    const series = (name: string) => metrics.split('\n').filter((line) => line.startsWith(name));
    assert.ok(
      series('relflow_releases_started_total').some((line) => /kind="nightly"/.test(line) && / 1$/.test(line)),
      metrics,
    );
    assert.ok(
      series('relflow_releases_finished_total').some((line) => /kind="nightly"/.test(line) && /status="succeeded"/.test(line)),
      metrics,
    );
    assert.ok(
      series('relflow_stage_duration_count').some((line) => /stage="checkout"/.test(line) && /kind="nightly"/.test(line)),
      metrics,
    );
    assert.ok(series('temporal_workflow_completed_total').length > 0, 'the SDK series');
    worker.kill('SIGINT');
    assert.equal(await exited, 0, output);
    assert.match(
      output,
      /\[relflow worker\] Python: \S+\/venv-[^/]+\/bin\/python \(from the relflow tools environment\): build [\d.]+, twine [\d.]+/,
    );

    const lacking = spawn(process.execPath, [RELFLOW_BIN, 'worker', '--task-queue', uniqueTaskQueue('cli-worker-python')], {
      env: { ...process.env, TEMPORAL_ADDRESS: testServer().address, RELFLOW_PYTHON: join(stubs, 'python3') },
    });
    let warned = '';
    lacking.stdout.on('data', (chunk) => (warned += chunk));
    for (let waited = 0; !warned.includes('polling') && waited < 60_000; waited += 100)
      await new Promise((resolve) => setTimeout(resolve, 100));
    lacking.kill('SIGINT');
    assert.match(warned, /warning: Python \S+python3 \(from RELFLOW_PYTHON\) does not run: PyPI publishing will fail; set RELFLOW_PYTHON/);

    // With its worker gone, the finished release is read from its result; a running one names the worker it needs.
    const status = await runCliAsync(['status', id], { TEMPORAL_ADDRESS: testServer().address });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /status\s+succeeded/);
    const nobody = uniqueTaskQueue('nobody');
    const orphan = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20260308', '--json'], {
      TEMPORAL_ADDRESS: testServer().address,
      RELFLOW_TASK_QUEUE: nobody,
    });
    const orphanId = (JSON.parse(orphan.stdout) as { releaseId: string }).releaseId;
    const stuck = await runCliAsync(['status', orphanId], { TEMPORAL_ADDRESS: testServer().address });
    assert.equal(stuck.status, 2, stuck.stderr);
    assert.equal(
      oneLineError(stuck.stderr),
      `relflow: release ${orphanId} (running) cannot answer: no worker polls its task queue '${nobody}'; start one with \`relflow worker --task-queue ${nobody}\``,
    );
    await testClient().workflow.getHandle(orphanId).terminate('test: no worker will come');
  });

  it('status tells a release whose workflow task fails from one that has no worker', async function () {
    const taskQueue = uniqueTaskQueue('failing-task');
    const connection = await NativeConnection.connect({ address: testServer().address });
    const worker = await Worker.create({
      connection,
      taskQueue,
      workflowsPath: require.resolve('../support/failingWorkflows'),
    });
    await worker.runUntil(async () => {
      const id = `failing-task-${process.pid}-${Date.now()}`;
      await testClient().workflow.start('releaseWorkflow', { taskQueue, workflowId: id, args: [] });
      const status = await until('a failed workflow task', async () => {
        const run = await runCliAsync(['status', id], { TEMPORAL_ADDRESS: testServer().address });
        return /attempt [2-9]/.test(run.stderr) ? run : undefined;
      });
      assert.equal(status.status, 2, status.stderr);
      assert.match(
        oneLineError(status.stderr),
        new RegExp(
          `^relflow: release ${id} cannot answer now: a worker polls '${taskQueue}', but the release's workflow task failed and is being retried \\(attempt \\d+\\): .*; see the worker's log$`,
        ),
      );
      await testClient().workflow.getHandle(id).terminate('test: a build with a bug');
    });
    await connection.close();
  });

  it('`relflow dev --port --ui-port` keeps its state across a restart, says the address to use, refuses a taken port, stops on Ctrl-C', async function () {
    this.timeout(240_000);
    const port = await freePort();
    const uiPort = port + 1000;
    const dbFile = join(tempDir('dev'), 'temporal.db');
    // A second installation on this host: no TEMPORAL_ADDRESS, the ports on the command line.
    const env: NodeJS.ProcessEnv = { ...process.env, RELFLOW_WORKSPACE: tempDir('dev-workspace') };
    delete env.TEMPORAL_ADDRESS;
    const runDev = () =>
      new Promise<{ stop: () => Promise<{ code: number | null; output: string }> }>((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [RELFLOW_BIN, 'dev', '--db-file', dbFile, '--port', String(port), '--ui-port', String(uiPort)],
          {
            env,
          },
        );
        let output = '';
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('ready;')) {
            resolve({
              stop: () =>
                new Promise((done) => {
                  child.once('close', (code) => done({ code, output }));
                  child.kill('SIGINT');
                }),
            });
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('close', (code) => reject(new Error(`relflow dev exited early (${code}):\n${output}`)));
      });
    const first = await runDev();
    // Another one on the same Web UI port is told so before it starts anything.
    const clash = await runCliAsync(
      ['dev', '--db-file', join(tempDir('dev-clash'), 'temporal.db'), '--port', String(port + 1), '--ui-port', String(uiPort)],
      {
        TEMPORAL_ADDRESS: '',
      },
    );
    assert.equal(clash.status, 2);
    assert.equal(
      clash.stderr.trim(),
      `relflow: --ui-port ${uiPort}: port ${uiPort} on 127.0.0.1 is already in use (another relflow dev or Temporal Web UI?); pass another, e.g. --port ${port + 2} --ui-port ${uiPort + 1}`,
    );
    const started = await runCliAsync(['start', 'nightly', '-c', config, '--date', '20260202', '--json'], {
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
    });
    assert.equal(started.status, 0, started.stderr);
    const client = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${port}` }) });
    await client.workflow.getHandle('clitest-nightly-20260202').result();
    await client.connection.close();
    const stopped = await first.stop();
    assert.equal(stopped.code, 0, stopped.output);
    assert.match(stopped.output, /stopped/);
    assert.match(
      stopped.output,
      new RegExp(`^\\[relflow dev\\] for relflow in another shell: export TEMPORAL_ADDRESS=127\\.0\\.0\\.1:${port}$`, 'm'),
    );
    assert.match(stopped.output, new RegExp(`^\\[relflow dev\\] Temporal Web UI: http://127\\.0\\.0\\.1:${uiPort}$`, 'm'));

    // The stopped server's ports are let go before the next one binds them (its Web UI's listener closes last).
    await until('the ports to be free', async () =>
      (await isPortOpen('127.0.0.1', port)) || (await isPortOpen('127.0.0.1', uiPort)) ? undefined : true,
    );
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const second = await runDev();
    const status = await runCliAsync(['status', 'clitest-nightly-20260202'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /status\s+succeeded/);
    assert.equal((await second.stop()).code, 0);
  });
});
