// slack.list_channels: conversations.list, following Slack's cursor pagination up to a limit.
// https://api.slack.com/methods/conversations.list, https://api.slack.com/apis/pagination
import { defineBlock } from '@blockyard/plugin-sdk';
import { callSlack, type SlackResponse } from './slack-api.js';

/** A channel as this plugin outputs it. */
export interface Channel {
  id: string;
  name: string | null;
  is_private: boolean;
  is_archived: boolean;
  is_member: boolean;
  num_members: number | null;
  topic: string;
  purpose: string;
  created: number | null;
}

interface SlackChannel {
  id: string;
  name?: string;
  is_private?: boolean;
  is_archived?: boolean;
  is_member?: boolean;
  num_members?: number;
  topic?: { value?: string };
  purpose?: { value?: string };
  created?: number;
}

interface ConversationsListResponse extends SlackResponse {
  channels?: SlackChannel[];
}

export function toChannel(raw: SlackChannel): Channel {
  return {
    id: raw.id,
    name: raw.name ?? null,
    is_private: raw.is_private ?? false,
    is_archived: raw.is_archived ?? false,
    is_member: raw.is_member ?? false,
    num_members: raw.num_members ?? null,
    topic: raw.topic?.value ?? '',
    purpose: raw.purpose?.value ?? '',
    created: raw.created ?? null,
  };
}

export interface ListChannelsInputs {
  limit: number;
  types: string[];
  exclude_archived: boolean;
  cursor?: string;
}

/** Slack recommends pages of no more than 200. */
export const PAGE_SIZE = 200;

/**
 * slack.list_channels: pages through conversations.list until `limit` channels or the last
 * page, yielding each `channel` as its page arrives, then `channels`, then `next_cursor` when
 * Slack has more (pass it back as `cursor` to go on).
 */
export const listChannels = defineBlock<ListChannelsInputs>(async function* ({ limit, types, exclude_archived, cursor }, context) {
  const channels: Channel[] = [];
  const seen = new Set<string>();
  let next = cursor ?? '';
  do {
    if (next) seen.add(next);
    const page = await callSlack<ConversationsListResponse>(
      context,
      'conversations.list',
      { query: { limit: Math.min(PAGE_SIZE, limit - channels.length), types: types.join(','), exclude_archived, cursor: next || undefined } },
      'list channels',
    );
    for (const raw of (page.channels ?? []).slice(0, limit - channels.length)) {
      const channel = toChannel(raw);
      channels.push(channel);
      yield ['channel', channel];
    }
    next = page.response_metadata?.next_cursor ?? '';
  } while (next && channels.length < limit && !seen.has(next));
  yield ['channels', channels];
  if (next && !seen.has(next)) yield ['next_cursor', next];
});
