import type { ArtifactSpec, Manifest } from '../config/manifest';
import { relflowVersion } from '../config/project';
import type { StoredFile } from '../release/model';
import {
  type ArtifactBuildFacts,
  type DsseEnvelope,
  DSSE_PAYLOAD_TYPE,
  dssePae,
  PROVENANCE_SUFFIX,
  provenanceStatement,
} from '../release/provenance';
import { buildVariableNames } from './builders/buildEnvironment';
import { signWithReleaseKey } from './releaseSigning';
import { storeReleaseText } from './storage';

/** One artifact's build as the release workflow recorded it. */
export type ArtifactBuildRecord = Omit<ArtifactBuildFacts, 'artifact' | 'builder' | 'command' | 'environment' | 'machine'> & {
  artifact: ArtifactSpec;
  build?: number;
  machineId: string;
};

/** The facts of a statement: the record, and what the artifact's spec says of its command, variables and machine. */
export function buildFacts(record: ArtifactBuildRecord, env: NodeJS.ProcessEnv): ArtifactBuildFacts {
  const { artifact, build, machineId, ...rest } = record;
  return {
    ...rest,
    artifact: artifact.name,
    builder: artifact.builder,
    command: artifact.command,
    environment: buildVariableNames(artifact, build, env),
    machine: {
      id: machineId,
      ...(artifact.ec2 ? { imageId: artifact.ec2.imageId, instanceType: artifact.ec2.instanceType } : {}),
      ...(artifact.vagrant ? { vagrantDirectory: artifact.vagrant.directory } : {}),
    },
  };
}

/**
 * `<file>.intoto.jsonl` beside every output of every artifact: the artifact's
 * provenance statement in a DSSE envelope, signed with the release key when the
 * workers' secrets file names one (unsigned, `signatures: []`, when not). The
 * statement is made from what the workflow recorded, so a retry stores the same
 * bytes and uploads nothing.
 */
export async function publishProvenance(
  input: { storage: NonNullable<Manifest['storage']>; release?: string; keyPrefix: string; builds: ArtifactBuildRecord[] },
  env: NodeJS.ProcessEnv,
): Promise<{ stored: StoredFile[]; signed: boolean }> {
  const stored: StoredFile[] = [];
  let signed = false;
  for (const record of input.builds) {
    const build = buildFacts(record, env);
    const payload = Buffer.from(JSON.stringify(provenanceStatement(build, relflowVersion())), 'utf8');
    const signature = await signWithReleaseKey(`the provenance of ${build.artifact}`, dssePae(DSSE_PAYLOAD_TYPE, payload), env);
    signed = signature !== undefined;
    const envelope: DsseEnvelope = {
      payloadType: DSSE_PAYLOAD_TYPE,
      payload: payload.toString('base64'),
      signatures: signature ? [{ keyid: signature.keyid, sig: signature.signature.toString('base64') }] : [],
    };
    for (const file of build.files) {
      const name = `${file.file}${PROVENANCE_SUFFIX}`;
      stored.push(
        await storeReleaseText(
          input.storage,
          input.release ?? record.releaseId,
          name,
          `${input.keyPrefix}${name}`,
          `${JSON.stringify(envelope)}\n`,
          env,
        ),
      );
    }
  }
  return { stored, signed };
}

export function createProvenanceActivities(env: NodeJS.ProcessEnv) {
  return {
    publishProvenance: (input: Parameters<typeof publishProvenance>[0]) => publishProvenance(input, env),
  };
}
