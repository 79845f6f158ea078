#!/usr/bin/env node
// The browser test drives Debian's Chromium: install it when it is missing and
// this machine can (root with apt-get); otherwise say why the test will skip.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const CHROMIUM = '/usr/bin/chromium';
if (existsSync(CHROMIUM)) process.exit(0);
const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
if (!canInstall) {
  process.stdout.write(`[ensure-chromium] ${CHROMIUM} is missing and apt-get cannot run here: the Web UI browser test will be skipped\n`);
  process.exit(0);
}
process.stdout.write('[ensure-chromium] installing Debian chromium for the Web UI browser test\n');
for (const args of [
  ['update', '-q'],
  ['install', '-y', '-q', '--no-install-recommends', 'chromium'],
]) {
  const result = spawnSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    process.stdout.write(`[ensure-chromium] apt-get ${args.join(' ')} failed: the Web UI browser test will be skipped\n`);
    process.exit(0);
  }
}
