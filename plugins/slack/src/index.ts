// @blockyard/plugin-slack: the entry point blockyard.plugin.json names.
import type { PluginHandlers, WebhookManager } from '@blockyard/plugin-sdk';
import { listChannels } from './channels.js';
import { messageEvent, postMessage } from './messages.js';
import { slackWebhooks } from './slack-webhooks.js';

export { listChannels, PAGE_SIZE, toChannel, type Channel } from './channels.js';
export { messageEvent, postMessage, type MessageEvent, type PostedMessage } from './messages.js';
export { callSlack, slackError, type SlackResponse } from './slack-api.js';
export { MAX_REQUEST_AGE_S, slackEvents, slackUrlVerificationChallenge, slackWebhooks, verifySlackSignature } from './slack-webhooks.js';

export const handlers: PluginHandlers = {
  'slack.post_message': postMessage,
  'slack.list_channels': listChannels,
  'slack.message_event': messageEvent,
};

export const webhooks: Record<string, WebhookManager> = {
  slack: slackWebhooks,
};
