import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ReleaseRequest } from '../release/model';

/** The request a release was started with, read back from the first event of its history; undefined when it has none. */
export async function releaseStartRequest(client: Client, releaseId: string, runId?: string): Promise<ReleaseRequest | undefined> {
  const history = await client.workflow.getHandle(releaseId, runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return payload ? (defaultPayloadConverter.fromPayload(payload) as ReleaseRequest) : undefined;
}
