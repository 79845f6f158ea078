import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../src/worker/tools';

/** What a relflow systemd unit of deploy/systemd runs: its Environment= settings and its ExecStart command. */
export interface ServiceUnit {
  environment: Record<string, string>;
  environmentFiles: string[];
  execStart: string[];
  execStartPre: string[][];
}

/** Reads deploy/systemd/<name>: the lines the test harness starts workers from (no quoting: the units use none). */
export function serviceUnit(name: string): ServiceUnit {
  const lines = readFileSync(join(projectRoot, 'deploy', 'systemd', name), 'utf8')
    .split('\n')
    .filter((line) => !line.startsWith('#'));
  const values = (key: string) => lines.filter((line) => line.startsWith(`${key}=`)).map((line) => line.slice(key.length + 1).trim());
  const environment = Object.fromEntries(
    values('Environment').map((assignment) => [
      assignment.slice(0, assignment.indexOf('=')),
      assignment.slice(assignment.indexOf('=') + 1),
    ]),
  );
  const [execStart] = values('ExecStart');
  return {
    environment,
    environmentFiles: values('EnvironmentFile'),
    execStart: execStart.split(/\s+/),
    execStartPre: values('ExecStartPre').map((command) => command.split(/\s+/)),
  };
}

/** A unit's command on this machine: its node is this one, its /opt/relflow this checkout. */
export function localCommand(command: string[]): string[] {
  return command.map((part, index) =>
    index === 0 && part.endsWith('/node') ? process.execPath : part.replace(/^\/opt\/relflow(?=\/|$)/, projectRoot),
  );
}
