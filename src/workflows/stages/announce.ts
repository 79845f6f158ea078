import { patched } from '@temporalio/workflow';
import { publishGithubReleases } from '../githubReleases';
import { activity } from '../proxies';
import type { Stage } from '../stage';

/** The repositories' GitHub releases published, the release email with every package, and the chat webhooks. */
export const announceStage: Stage = {
  name: 'announce',
  skippable: true,
  skip: ({ manifest }) =>
    !manifest.notifications.email && manifest.notifications.webhooks.length === 0 && !manifest.github?.releases
      ? 'no email, webhook or GitHub releases configured'
      : undefined,
  async run(context) {
    const state = context.release.state;
    const { notifications } = context.manifest;
    const github = context.manifest.github?.releases && patched('github-releases') ? await publishGithubReleases(context, false) : '';
    if (!notifications.email && notifications.webhooks.length === 0) return { detail: github };
    const report = await activity('announceRelease')({
      notifications: context.manifest.notifications,
      // The email needs no decision log: the activity input stays small however long the log.
      state: {
        ...state,
        log: [],
        stages: state.stages.map((stage) => (stage.name === 'announce' ? { ...stage, status: 'succeeded' } : stage)),
      },
    });
    return {
      detail: [github, report.email ? `email ${report.email}` : '', ...report.webhooks.map((hook) => `webhook ${hook.name}`)]
        .filter(Boolean)
        .join(', '),
    };
  },
};
