import { log } from '@temporalio/workflow';
import type { Manifest } from '../config/manifest';
import { activity } from './proxies';
import type { Message } from '../release/report';
import { errorMessage } from './tracker';

/** Sends an alert when channels are configured; a failed alert is logged, never fatal. */
export async function alert(manifest: Manifest, message: Message): Promise<void> {
  if (!manifest.notifications.email && manifest.notifications.webhooks.length === 0) return;
  try {
    await activity('sendAlert')({ notifications: manifest.notifications, message });
  } catch (error) {
    log.warn('alert not delivered', { subject: message.subject, error: errorMessage(error) });
  }
}
