#!/usr/bin/env node
// Runs a Node script under the Node 24 LTS of the relflow cache (bootstrap.mjs --node24), with that
// Node first on PATH so the processes it starts run on it too: `node scripts/on-node24.mjs SCRIPT ARGS...`.
// Off linux-x64, where bootstrap fetches no Node 24, it says so and runs the script on this Node.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tools = JSON.parse(readFileSync(join(projectRoot, '.relflow', 'tools.json'), 'utf8'));
const node24 = tools.node24 && existsSync(tools.node24) ? tools.node24 : undefined;
if (node24) process.stdout.write(`[node24] ${node24} ${process.argv.slice(2).join(' ')}\n`);
else process.stdout.write(`[node24] no Node 24 in the relflow cache (linux-x64 only): on this Node, ${process.version}\n`);
const child = spawn(node24 ?? process.execPath, process.argv.slice(2), {
  stdio: 'inherit',
  env: node24 ? { ...process.env, PATH: `${dirname(node24)}:${process.env.PATH}` } : process.env,
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
