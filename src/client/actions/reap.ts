import { loadManifest } from '../../config/loadManifest';
import { BuildMachine, reapBuildMachines } from '../../activities/builders/ec2';
import { isReleaseRunning } from '../../activities/reaper';
import { connectClient, temporalSettings } from '../connection';
import { installationOf } from '../../release/plan';
import { durationMs } from '../../config/duration';
import { out } from '../options';

export async function reapAction(options: { config: string; dryRun?: boolean; grace: string; json?: boolean }): Promise<void> {
  const manifest = loadManifest(options.config);
  const settings = temporalSettings();
  const client = await connectClient(settings);
  const installation = installationOf(settings.namespace, manifest);
  const result = await reapBuildMachines(manifest.ec2, process.env, (releaseId) => isReleaseRunning(client, releaseId), {
    installation,
    graceMs: durationMs(options.grace),
    dryRun: options.dryRun,
  });
  if (options.json) return out(JSON.stringify(result, null, 2));
  const line = (machine: BuildMachine) =>
    `  ${machine.instanceId}  ${machine.releaseId || '(no release)'}  ${machine.artifact}  launched ${machine.launched ?? '-'}`;
  out(
    [
      `${options.dryRun ? 'would terminate' : 'terminated'} ${result.terminated.length} machine(s)${result.terminated.length ? ':' : ''}`,
      ...result.terminated.map(line),
      `kept ${result.kept.length} machine(s) of running releases or launched within ${options.grace}${result.kept.length ? ':' : ''}`,
      ...result.kept.map(line),
      `left alone ${result.others.length} machine(s) of other installations than ${installation}${result.others.length ? ':' : ''}`,
      ...result.others.map((machine) => `${line(machine)}  installation ${machine.installation || '(none)'}`),
    ].join('\n'),
  );
}
