import { createHash } from 'node:crypto';
import {
  DescribeInstancesCommand,
  EC2Client,
  Instance,
  paginateDescribeInstances,
  RunInstancesCommand,
  TerminateInstancesCommand,
  _InstanceType,
} from '@aws-sdk/client-ec2';
import { ApplicationFailure } from '@temporalio/common';
import type { Manifest } from '../../config/manifest';
import { DEFAULT_EC2_POLL_INTERVAL } from '../../config/defaults';
import { durationMs } from '../../config/duration';
import type { StoredFile } from '../../release/model';
import { buildRun, buildScript, collectMachineOutputs, finishMachineBuild, removeMachineReports } from './remoteMachine';
import type { Builder, BuildRequest, Machine } from './types';
import { awsDestination, readSecret } from '../secrets';

export type Ec2Settings = Manifest['ec2'];

const RELEASE_TAG = 'relflow:release';
const ARTIFACT_TAG = 'relflow:artifact';
const RUN_TAG = 'relflow:run';
const INSTALLATION_TAG = 'relflow:installation';

export function ec2Client(settings: Ec2Settings, env: NodeJS.ProcessEnv): EC2Client {
  const destination = awsDestination('ec2', 'ec2', settings);
  const accessKeyId = readSecret(env, 'ec2.accessKeyIdEnv', settings.accessKeyIdEnv, destination);
  const secretAccessKey = readSecret(env, 'ec2.secretAccessKeyEnv', settings.secretAccessKeyEnv, destination);
  return new EC2Client({
    region: settings.region,
    endpoint: settings.endpoint,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  });
}

/**
 * The same artifact run always gives the same token, so a retried RunInstances
 * returns the first machine; an operator's retry is a new run and a new machine.
 */
export function clientToken(request: BuildRequest): string {
  return createHash('sha256')
    .update(`${request.releaseId}/${request.artifact.name}/${buildRun(request)}`)
    .digest('hex')
    .slice(0, 64);
}

const ALIVE = ['pending', 'running'];

/** The failure type of a look at a machine that has not reported yet. */
export const BUILD_RUNNING = 'BuildRunning';

/** The ec2 builder: a machine per artifact run (idempotent by ClientToken), tagged with its release, terminated in the tear-down. */
export function createEc2Builder(
  env: NodeJS.ProcessEnv,
  pollMs = durationMs(DEFAULT_EC2_POLL_INTERVAL),
): Builder & Required<Pick<Builder, 'checkBuild'>> {
  const settingsOf = (request: BuildRequest): Ec2Settings =>
    request.ec2 ?? { region: 'us-east-1', pollInterval: DEFAULT_EC2_POLL_INTERVAL };
  return {
    async provision(request: BuildRequest): Promise<Machine> {
      const machine = request.artifact.ec2;
      if (!machine)
        throw ApplicationFailure.nonRetryable(
          `artifacts.${request.artifact.name}.ec2: required with builder ec2 (imageId)`,
          'InvalidArtifact',
        );
      const client = ec2Client(settingsOf(request), env);
      // EC2 dedupes by ClientToken; the lookup by tags also covers EC2-compatible APIs that do not (moto).
      const existing = await client.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: `tag:${RELEASE_TAG}`, Values: [request.releaseId] },
            { Name: `tag:${ARTIFACT_TAG}`, Values: [request.artifact.name] },
            { Name: `tag:${RUN_TAG}`, Values: [buildRun(request)] },
            { Name: 'instance-state-name', Values: ALIVE },
          ],
        }),
      );
      const alive = existing.Reservations?.flatMap((reservation) => reservation.Instances ?? [])[0]?.InstanceId;
      if (alive) return { id: alive, builder: 'ec2' };
      const response = await client.send(
        new RunInstancesCommand({
          ImageId: machine.imageId,
          InstanceType: machine.instanceType as _InstanceType,
          SubnetId: machine.subnetId,
          KeyName: machine.keyName,
          MinCount: 1,
          MaxCount: 1,
          ClientToken: clientToken(request),
          InstanceInitiatedShutdownBehavior: 'terminate',
          // IMDSv2 only, one hop: the user-data (with its presigned URLs) is not readable by a plain GET
          // from anything on the machine, nor from a container on it.
          MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
          UserData: Buffer.from(await buildScript(request, env)).toString('base64'),
          TagSpecifications: [
            {
              ResourceType: 'instance',
              Tags: [
                { Key: 'Name', Value: `relflow ${request.releaseId} ${request.artifact.name}` },
                { Key: RELEASE_TAG, Value: request.releaseId },
                { Key: ARTIFACT_TAG, Value: request.artifact.name },
                { Key: RUN_TAG, Value: buildRun(request) },
                ...(request.installation ? [{ Key: INSTALLATION_TAG, Value: request.installation }] : []),
              ],
            },
          ],
        }),
      );
      const id = response.Instances?.[0]?.InstanceId;
      if (!id) throw new Error(`${request.artifact.name}: RunInstances returned no instance`);
      return { id, builder: 'ec2' };
    },

    async build(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
      return collectMachineOutputs(request, env, request.ec2?.pollInterval ? durationMs(request.ec2.pollInterval) : pollMs);
    },

    /**
     * One look at the machine: its stored outputs, or a retryable failure while
     * it builds. The workflow retries this at the poll interval, so a waiting
     * build holds no worker slot and adds nothing to the history.
     */
    async checkBuild(request: BuildRequest & { machine: Machine }): Promise<StoredFile[]> {
      const files = await finishMachineBuild(request, env);
      if (!files)
        throw ApplicationFailure.retryable(`${request.artifact.name}: machine ${request.machine.id} is still building`, BUILD_RUNNING);
      return files;
    },

    async tearDown(request: BuildRequest & { machine: Machine }): Promise<void> {
      await terminateInstances(settingsOf(request), env, [request.machine.id]);
      await removeMachineReports(request, env);
    },
  };
}

async function terminateInstances(settings: Ec2Settings, env: NodeJS.ProcessEnv, ids: string[]): Promise<void> {
  try {
    await ec2Client(settings, env).send(new TerminateInstancesCommand({ InstanceIds: ids }));
  } catch (error) {
    if (!/InvalidInstanceID\.NotFound/.test(String((error as { name?: string }).name ?? error))) throw error;
  }
}

export interface BuildMachine {
  instanceId: string;
  releaseId: string;
  artifact: string;
  /** `<namespace>/<installation>`; empty on machines of a relflow from before the tag. */
  installation: string;
  state: string;
  launched?: string;
}

/** Every pending or running machine that relflow started (by its tags). */
export async function listBuildMachines(settings: Ec2Settings, env: NodeJS.ProcessEnv): Promise<BuildMachine[]> {
  const machines: BuildMachine[] = [];
  const pages = paginateDescribeInstances(
    { client: ec2Client(settings, env) },
    {
      Filters: [
        { Name: 'tag-key', Values: [RELEASE_TAG] },
        { Name: 'instance-state-name', Values: ALIVE },
      ],
    },
  );
  for await (const page of pages) {
    for (const instance of (page.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? [])) {
      const tag = (key: string) => (instance as Instance).Tags?.find((candidate) => candidate.Key === key)?.Value ?? '';
      machines.push({
        instanceId: instance.InstanceId as string,
        releaseId: tag(RELEASE_TAG),
        artifact: tag(ARTIFACT_TAG),
        installation: tag(INSTALLATION_TAG),
        state: instance.State?.Name ?? '',
        launched: instance.LaunchTime?.toISOString(),
      });
    }
  }
  return machines;
}

export interface ReapResult {
  terminated: BuildMachine[];
  /** This installation's machines that stay: their release runs, or they are younger than the grace period. */
  kept: BuildMachine[];
  /** Machines of other installations, or without an installation tag (an older relflow): never touched. */
  others: BuildMachine[];
}

export interface ReapOptions {
  /** `<namespace>/<installation>`: only machines with this tag are this reaper's. */
  installation: string;
  /** Machines launched less than this long ago stay, whatever their release (default 15 minutes). */
  graceMs?: number;
  dryRun?: boolean;
  now?: number;
}

/**
 * Terminates this installation's build machines whose release is no longer
 * running (finished, failed, terminated, or unknown to Temporal): what a
 * hard-killed release leaves. Other installations' machines are never touched.
 */
export async function reapBuildMachines(
  settings: Ec2Settings,
  env: NodeJS.ProcessEnv,
  isReleaseRunning: (releaseId: string) => Promise<boolean>,
  options: ReapOptions,
): Promise<ReapResult> {
  const result: ReapResult = { terminated: [], kept: [], others: [] };
  const youngest = (options.now ?? Date.now()) - (options.graceMs ?? 15 * 60_000);
  for (const machine of await listBuildMachines(settings, env)) {
    if (machine.installation !== options.installation) result.others.push(machine);
    else if (machine.launched && Date.parse(machine.launched) > youngest) result.kept.push(machine);
    else if (machine.releaseId && (await isReleaseRunning(machine.releaseId))) result.kept.push(machine);
    else result.terminated.push(machine);
  }
  if (!options.dryRun && result.terminated.length > 0)
    await terminateInstances(
      settings,
      env,
      result.terminated.map((machine) => machine.instanceId),
    );
  return result;
}
