import { patched } from '@temporalio/workflow';
import { activity } from '../proxies';
import { planOf, Stage } from '../stage';

/** On the worker, before the first side effect: secrets, tools, remotes and storage, every problem at once. */
export const preflightStage: Stage = {
  name: 'preflight',
  skippable: true,
  // Releases recorded before the preflight existed go on without it.
  skip: () => (patched('preflight-stage') ? undefined : 'started before relflow had a preflight'),
  async run(context) {
    const result = await activity('preflightRelease', { summary: 'check secrets, tools, remotes and storage' })({
      kind: context.request.kind,
      manifest: context.manifest,
      plan: planOf(context),
      inline: !context.request.manifestRef,
    });
    return { detail: `${result.checked.join(', ')} checked` };
  },
};
