import { spawn } from 'node:child_process';
import { tempDir } from './temporal';
import { DescribeInstanceAttributeCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';

export interface PlayedMachine {
  instanceId: string;
  /** When the machine's user-data started and ended (ms since the epoch). */
  startedAt: number;
  endedAt?: number;
}

/**
 * Plays EC2 for moto, which keeps the machine lifecycle but boots nothing: every
 * running instance tagged by relflow has its user-data run once, as a machine
 * would at boot. The builds it runs sleep off this machine's CPU, as remote
 * builds do.
 */
export function playMachines(
  client: EC2Client,
  pollMs = 250,
  accept: (tags: Record<string, string>) => boolean = () => true,
): { stop(): Promise<PlayedMachine[]> } {
  const machines = new Map<string, PlayedMachine>();
  const running: Promise<void>[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const response = await client.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag-key', Values: ['relflow:release'] },
            { Name: 'instance-state-name', Values: ['running'] },
          ],
        }),
      );
      for (const instance of (response.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
        const instanceId = instance.InstanceId as string;
        if (machines.has(instanceId) || !accept(Object.fromEntries((instance.Tags ?? []).map((tag) => [tag.Key, tag.Value])))) continue;
        const machine: PlayedMachine = { instanceId, startedAt: Date.now() };
        machines.set(instanceId, machine);
        const attribute = await client.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'userData' }));
        const script = Buffer.from(attribute.UserData?.Value ?? '', 'base64').toString('utf8');
        running.push(
          new Promise<void>((resolve) => {
            const child = spawn('sh', ['-c', script], {
              cwd: tempDir('machine'),
              stdio: 'ignore',
              env: { PATH: process.env.PATH, HOME: process.env.HOME },
            });
            child.on('close', () => {
              machine.endedAt = Date.now();
              resolve();
            });
          }),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();
  return {
    /** Stops watching, waits for the machines still running, and returns every machine played. */
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(running);
      return [...machines.values()];
    },
  };
}
