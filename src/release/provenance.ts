/**
 * Build provenance of an artifact: an in-toto Statement v1 with a SLSA
 * Provenance v1 predicate, carried in a DSSE envelope. relflow signs the
 * envelope with the release key as SSH signatures are made: `ssh-keygen -Y sign
 * -n relflow-release` over the DSSE pre-authentication encoding; the envelope's
 * `sig` is the base64 of that armored SSHSIG text and `keyid` the key's
 * SHA256 fingerprint. A verifier rebuilds the encoding and runs
 * `ssh-keygen -Y verify` with its allowed_signers file (docs/verifying.md).
 */

export const INTOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_TYPE = 'https://slsa.dev/provenance/v1';
export const RELFLOW_BUILD_TYPE = 'https://github.com/relflow/relflow/blob/main/docs/build-types/artifact-v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** `<file>.intoto.jsonl`: the provenance of a stored file, one DSSE envelope per line. */
export const PROVENANCE_SUFFIX = '.intoto.jsonl';

/** What the release workflow recorded of one artifact's build; no secret, only names of variables. */
export interface ArtifactBuildFacts {
  releaseId: string;
  artifact: string;
  builder: string;
  command: string;
  /** The names of the variables the build saw (values are never recorded). */
  environment: string[];
  repository: { name: string; url: string };
  /** `refs/tags/<tag>`, or for a patch its build branch `refs/heads/<branch>`. */
  ref: string;
  commit: string;
  machine: { id: string; imageId?: string; instanceType?: string; vagrantDirectory?: string };
  temporal: { namespace: string; workflowId: string; runId: string };
  startedOn: string;
  finishedOn: string;
  /** The outputs were an earlier build of this commit still stored: nothing was built by this run. */
  reused: boolean;
  files: { file: string; sha256: string }[];
}

export interface ProvenanceStatement {
  _type: typeof INTOTO_STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof SLSA_PROVENANCE_TYPE;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: {
        release: string;
        artifact: string;
        command: string;
        source: { repository: string; ref: string };
      };
      internalParameters: {
        builder: string;
        environment: string[];
        machine: ArtifactBuildFacts['machine'];
        temporal: ArtifactBuildFacts['temporal'];
        reused: boolean;
      };
      resolvedDependencies: { uri: string; digest: { gitCommit: string }; name: string }[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { invocationId: string; startedOn: string; finishedOn: string };
    };
  };
}

/** The statement of one artifact's build: its outputs are the subjects. */
export function provenanceStatement(facts: ArtifactBuildFacts, relflowVersion: string): ProvenanceStatement {
  const { temporal } = facts;
  return {
    _type: INTOTO_STATEMENT_TYPE,
    subject: facts.files.map((file) => ({ name: file.file, digest: { sha256: file.sha256 } })),
    predicateType: SLSA_PROVENANCE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: RELFLOW_BUILD_TYPE,
        externalParameters: {
          release: facts.releaseId,
          artifact: facts.artifact,
          command: facts.command,
          source: { repository: facts.repository.url, ref: facts.ref },
        },
        internalParameters: {
          builder: facts.builder,
          environment: [...facts.environment].sort(),
          machine: facts.machine,
          temporal,
          reused: facts.reused,
        },
        resolvedDependencies: [
          { uri: `git+${facts.repository.url}@${facts.ref}`, digest: { gitCommit: facts.commit }, name: facts.repository.name },
        ],
      },
      runDetails: {
        builder: { id: `https://github.com/relflow/relflow/builders/${facts.builder}`, version: { relflow: relflowVersion } },
        metadata: {
          invocationId: `temporal://${temporal.namespace}/${temporal.workflowId}/${temporal.runId}`,
          startedOn: facts.startedOn,
          finishedOn: facts.finishedOn,
        },
      },
    },
  };
}

export interface DsseEnvelope {
  payloadType: string;
  /** base64 of the statement's JSON. */
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

/** DSSE v1's pre-authentication encoding: what is signed, so a payload cannot pass as another type. */
export function dssePae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A source from a statement: the repository, ref and commit its single resolved dependency names. */
export function statementSource(statement: ProvenanceStatement): { url: string; ref: string; commit: string } | undefined {
  const dependency = statement.predicate?.buildDefinition?.resolvedDependencies?.[0];
  const source = statement.predicate?.buildDefinition?.externalParameters?.source;
  if (!dependency || !source || typeof source.repository !== 'string' || typeof source.ref !== 'string') return undefined;
  const commit = dependency.digest?.gitCommit;
  return typeof commit === 'string' ? { url: source.repository, ref: source.ref, commit } : undefined;
}
