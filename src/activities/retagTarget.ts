import { ApplicationFailure, Context } from '@temporalio/activity';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { releaseStartRequest } from './releaseRecord';
import type { Manifest } from '../config/manifest';
import { OPERATOR_SIGNATURE_NAMESPACE, retagCommandPayload } from '../release/decisions';
import { RELEASE_STATE_QUERY, ReleaseRequest, ReleaseState } from '../release/model';
import { verifySignedDecision } from './gateSignatures';
import type { TagInput } from './git';
import { inlineManifestsAccepted, loadManifestByReference } from './manifestSource';
import { workerSecrets } from './secrets';

/** What an operator asks of `relflow retag`: the release and repository; everything else the worker reads from the release. */
export interface RetagRequest {
  releaseId: string;
  repository: string;
  by: string;
  /** Move the tag even when a release that succeeded published it. */
  force?: boolean;
  time?: string;
  signature?: string;
}

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'RetagRefused');
}

/** The release's first event: its type, and the request it was started with. */
async function startOf(client: Client, releaseId: string): Promise<{ runId: string; request: ReleaseRequest; state: ReleaseState }> {
  const handle = client.workflow.getHandle(releaseId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw refused(`no release with ID '${releaseId}'`);
    throw error;
  }
  // Any client can start a workflow under any ID: only a release's own record says what a release tagged.
  if (description.type !== 'releaseWorkflow') throw refused(`${releaseId} is a ${description.type}, not a release`);
  const request = await releaseStartRequest(client, releaseId, description.runId);
  if (!request) throw refused(`release ${releaseId} has no start input in its history`);
  const state =
    description.status.name === 'COMPLETED'
      ? ((await client.workflow.getHandle(releaseId, description.runId).result()) as ReleaseState)
      : await client.workflow.getHandle(releaseId, description.runId).query<ReleaseState>(RELEASE_STATE_QUERY);
  return { runId: description.runId, request, state };
}

/** The manifest the release ran with, read again from this worker's trusted source; an inline one only where this worker runs those. */
async function manifestOf(env: NodeJS.ProcessEnv, releaseId: string, request: ReleaseRequest, state: ReleaseState): Promise<Manifest> {
  if (request.manifest) {
    if (!inlineManifestsAccepted(env))
      throw refused(
        `release ${releaseId} ran an inline manifest, and this worker runs manifests by reference only: it retags none of its tags`,
      );
    return request.manifest;
  }
  if (!request.manifestRef || !state.manifest) throw refused(`release ${releaseId} has no manifest yet`);
  const ref = { name: state.manifest.name, ref: request.manifestRef.ref, sha256: state.manifest.sha256 };
  return (await loadManifestByReference(env, ref)).manifest;
}

/** A release that succeeded and published this tag of this repository, if any. */
async function succeededReleaseWithTag(client: Client, product: string, repository: string, tag: string) {
  const quoted = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const query = `WorkflowType = 'releaseWorkflow' AND ReleaseProduct = ${quoted(product)} AND ReleaseStatus = 'succeeded'`;
  for await (const execution of client.workflow.list({ query })) {
    const result = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as ReleaseState;
    if (result.repositories.some((candidate) => candidate.name === repository && candidate.tag === tag && candidate.tagSha)) {
      return { releaseId: execution.workflowId, closed: execution.closeTime?.toISOString() ?? '' };
    }
  }
  return undefined;
}

/**
 * What `relflow retag` may move: the tag a release recorded for one of its
 * repositories, at the URL and branch of the manifest the release ran with,
 * asked for by an operator who signed (where the workers list operators'
 * signers), and never a tag a successful release published unless forced.
 * The caller names the release and repository; nothing else comes from it.
 */
export function createRetagActivities(env: NodeJS.ProcessEnv) {
  return {
    async retagTarget(request: RetagRequest): Promise<Omit<TagInput, 'sha'>> {
      const { client, info } = Context.current();
      const { runId, request: started, state } = await startOf(client, request.releaseId);
      const verdict = await verifySignedDecision(
        workerSecrets(env).operatorSigners(),
        request,
        {
          namespace: OPERATOR_SIGNATURE_NAMESPACE,
          payload: retagCommandPayload({
            namespace: info.namespace,
            release: request.releaseId,
            run: runId,
            repository: request.repository,
            force: request.force === true,
            time: request.time ?? '',
          }),
          signersOf: 'the operators',
          what: `retag of ${request.repository} in ${request.releaseId}`,
          howToSign: `this worker takes signed operator commands only: relflow retag --key <your SSH key> (a key of the workers' operators.allowedSigners)`,
        },
        env,
      );
      if (verdict.problem) throw refused(verdict.problem);
      if (verdict.signer && verdict.signer.principal !== request.by)
        throw refused(`the command is signed by ${verdict.signer.principal}, not by ${request.by}: pass --by ${verdict.signer.principal}`);
      const manifest = await manifestOf(env, request.releaseId, started, state);
      const repository = state.repositories.find((candidate) => candidate.name === request.repository);
      const spec = manifest.repositories.find((candidate) => candidate.name === request.repository);
      if (!repository || !spec)
        throw refused(
          `release ${request.releaseId} has no repository '${request.repository}'; it has ${state.repositories.map((candidate) => candidate.name).join(', ')}`,
        );
      if (!repository.tag || !repository.buildBranch)
        throw refused(`${request.repository} has no tag in release ${request.releaseId} (patches are not tagged)`);
      const owner = request.force ? undefined : await succeededReleaseWithTag(client, state.product, spec.name, repository.tag);
      if (owner)
        throw refused(
          `tag '${repository.tag}' of ${spec.name} belongs to release ${owner.releaseId}, which succeeded at ${owner.closed}; ` +
            'moving it changes what that release published. Pass --force if that is meant',
        );
      return {
        releaseId: request.releaseId,
        repository: {
          name: spec.name,
          url: spec.url,
          mainBranch: spec.branch,
          baseBranch: repository.buildBranch,
          buildBranch: repository.buildBranch,
          tag: repository.tag,
          stream: spec.stream,
          version: repository.tag,
        },
        tag: repository.tag,
        message: `Retag ${repository.tag} by ${request.by}${verdict.signer ? ' (signed)' : ''}`,
        author: manifest.git.author,
        tokenEnv: manifest.git.tokenEnv,
      };
    },
  };
}
