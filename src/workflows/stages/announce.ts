import { activity } from '../proxies';
import type { Stage } from '../stage';

/** The release email with every package, and the chat webhooks. */
export const announceStage: Stage = {
  name: 'announce',
  skippable: true,
  skip: ({ manifest }) =>
    !manifest.notifications.email && manifest.notifications.webhooks.length === 0 ? 'no email or webhook configured' : undefined,
  async run(context) {
    const state = context.release.state;
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
      detail: [report.email ? `email ${report.email}` : '', ...report.webhooks.map((hook) => `webhook ${hook.name}`)]
        .filter(Boolean)
        .join(', '),
    };
  },
};
