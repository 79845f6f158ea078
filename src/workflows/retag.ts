import type { TagInput, TagResult } from '../activities/git';
import { activity } from './proxies';

/** Moves a release tag to the head of its build branch: only ever on an operator's request (`relflow retag`). */
export async function retagWorkflow(input: Omit<TagInput, 'sha'>): Promise<TagResult> {
  return activity('retagRepository')(input);
}
