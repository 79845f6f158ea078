import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { TagInput, TagResult } from '../activities/git';
import type { RetagRequest } from '../activities/retagTarget';
import { retagShapeProblem } from '../release/decisions';
import { activity } from './proxies';

/** From this change on, a retag names a release and a repository only; the worker derives the rest from the release. */
const RETAG_FROM_RELEASE = 'retag-derived-from-release';

/**
 * Moves a release tag to the head of its build branch: only ever on an
 * operator's request (`relflow retag`), and only a tag the named release
 * recorded, at the repository its manifest names.
 */
export async function retagWorkflow(input: RetagRequest): Promise<TagResult> {
  if (!patched(RETAG_FROM_RELEASE)) return activity('retagRepository')(input as unknown as Omit<TagInput, 'sha'>);
  const problem = retagShapeProblem(input);
  if (problem) throw ApplicationFailure.nonRetryable(`retag refused: ${problem}`, 'RetagRefused');
  const target = await activity('retagTarget', { summary: `what ${input.repository} of ${input.releaseId} may be retagged to` })(input);
  return activity('retagRepository')(target);
}
