// slack.post_message and the slack.message_event trigger.
// https://api.slack.com/methods/chat.postMessage, https://api.slack.com/events/message
import { ActionError, defineBlock } from '@blockyard/plugin-sdk';
import { callSlack, type SlackResponse } from './slack-api.js';

export interface PostMessageInputs {
  channel: string;
  text: string;
  thread_ts?: string;
}

/** A posted message: where it went and its timestamp (Slack's message id). */
export interface PostedMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
}

interface PostMessageResponse extends SlackResponse {
  channel?: string;
  ts?: string;
}

/** slack.post_message: chat.postMessage with a JSON body; yields `message` { channel, ts }. */
export const postMessage = defineBlock<PostMessageInputs>(async function* ({ channel, text, thread_ts }, context) {
  const json: Record<string, unknown> = { channel, text };
  if (thread_ts !== undefined) json.thread_ts = thread_ts;
  const body = await callSlack<PostMessageResponse>(context, 'chat.postMessage', { method: 'POST', json }, `post to channel ${channel}`);
  if (typeof body.channel !== 'string' || typeof body.ts !== 'string') throw new ActionError('Slack posted the message but did not say where (no channel or ts in its answer)');
  const message: PostedMessage = { channel: body.channel, ts: body.ts };
  if (thread_ts !== undefined) message.thread_ts = thread_ts;
  yield ['message', message];
});

/** A message event as the trigger outputs it. */
export interface MessageEvent {
  type: string;
  channel: string | null;
  user: string | null;
  text: string;
  ts: string | null;
  thread_ts?: string;
  subtype?: string;
  channel_type?: string;
  bot_id?: string;
  team?: string;
  event_id?: string;
}

interface SlackEvent {
  type?: unknown;
  subtype?: string;
  channel?: string;
  channel_type?: string;
  user?: string;
  text?: string;
  ts?: string;
  thread_ts?: string;
  bot_id?: string;
  team?: string;
  /** message_changed carries the new message here. */
  message?: { user?: string; text?: string; bot_id?: string; thread_ts?: string };
}

const MESSAGE_TYPES = new Set(['message', 'app_mention']);

/**
 * slack.message_event: fired by an Events API `message` or `app_mention` event. Takes the
 * event_callback envelope (or the bare event) as `payload`. Messages from bots, this app's own
 * included, yield nothing unless `include_bot_messages` is set: an agent that answers
 * messages would otherwise answer itself forever.
 */
export const messageEvent = defineBlock<{ payload: Record<string, unknown>; include_bot_messages: boolean }>(async function* ({ payload, include_bot_messages }, context) {
  const envelope = payload as { event?: unknown; event_id?: string; team_id?: string };
  const event = (envelope.event && typeof envelope.event === 'object' ? envelope.event : payload) as SlackEvent;
  if (typeof event.type !== 'string' || !MESSAGE_TYPES.has(event.type)) {
    throw new ActionError('the payload is not a Slack message event: it needs an event of type message or app_mention');
  }
  const bot = event.bot_id ?? event.message?.bot_id;
  if ((bot !== undefined || event.subtype === 'bot_message') && !include_bot_messages) {
    context.logger.debug('slack message from a bot ignored', { bot_id: bot });
    return;
  }
  const out: MessageEvent = {
    type: event.type,
    channel: event.channel ?? null,
    user: event.user ?? event.message?.user ?? null,
    text: event.text ?? event.message?.text ?? '',
    ts: event.ts ?? null,
  };
  const threadTs = event.thread_ts ?? event.message?.thread_ts;
  if (threadTs !== undefined) out.thread_ts = threadTs;
  if (event.subtype !== undefined) out.subtype = event.subtype;
  if (event.channel_type !== undefined) out.channel_type = event.channel_type;
  if (bot !== undefined) out.bot_id = bot;
  const team = event.team ?? envelope.team_id;
  if (team !== undefined) out.team = team;
  if (envelope.event_id !== undefined) out.event_id = envelope.event_id;
  yield ['event', out];
});
