import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Plays the Slack Web API on 127.0.0.1 for the methods the slack plugin calls, as Slack
 * documents them:
 *
 * - `chat.postMessage` (JSON or form body): channel by ID or name, thread_ts; errors
 *   `channel_not_found`, `not_in_channel`, `is_archived`, `no_text`, `msg_too_long`
 * - `conversations.list` (query or form): `types`, `exclude_archived`, `limit` (≤ 1000, else
 *   `invalid_limit`), opaque `cursor` / `response_metadata.next_cursor` (`invalid_cursor`)
 *
 * Like Slack it answers HTTP 200 with `{ ok: false, error }` for failures: `not_authed` without a
 * token, `invalid_auth` for an unknown one, `missing_scope` (with `needed`, `provided`) when the
 * token lacks the method's scope; a JSON body without `charset=utf-8` gets the
 * `missing_charset` warning. `failNext` queues raw answers (429 with Retry-After, outages)
 * served before any method. Every request is recorded.
 */
export interface SlackApiStandIn {
  url: string;
  requests: RecordedSlackRequest[];
  channels: StandInChannel[];
  /** Answers the next requests with these, in order, whatever they ask. */
  failNext(...responses: CannedSlackResponse[]): void;
  /** conversations.list returns at most this many per page whatever the limit (Slack may return fewer). */
  maxPageSize: number;
  close(): Promise<void>;
}

export interface RecordedSlackRequest {
  method: string;
  /** The Web API method: `chat.postMessage`. */
  apiMethod: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** JSON or form fields. */
  body: Record<string, unknown> | null;
}

export interface CannedSlackResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface StandInChannel {
  id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  /** Whether the bot is a member (it may post only then). */
  is_member: boolean;
  num_members: number;
  topic: string;
  purpose: string;
  created: number;
  messages: Array<{ ts: string; text: string; thread_ts?: string; user: string; bot_id: string }>;
}

export interface SlackApiOptions {
  /** Token -> its scopes. Default: `test-token` with chat:write and channels:read. */
  tokens?: Record<string, string[]>;
}

const BOT_USER = 'U0BOTUSER1';
const BOT_ID = 'B0BOTID001';
const TEAM = 'T0TEAM0001';

export async function startSlackApi(options: SlackApiOptions = {}): Promise<SlackApiStandIn> {
  const tokens = options.tokens ?? { 'test-token': ['chat:write', 'channels:read'] };
  const requests: RecordedSlackRequest[] = [];
  const queued: CannedSlackResponse[] = [];
  const channels = seedChannels();
  let clock = 1_700_000_000;
  let sequence = 0;

  const standIn: SlackApiStandIn = {
    url: '',
    requests,
    channels,
    maxPageSize: 1000,
    failNext: (...responses) => void queued.push(...responses),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };

  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const apiMethod = url.pathname.replace(/^\/+/, '');
      const contentType = req.headers['content-type'] ?? '';
      let body: Record<string, unknown> | null = null;
      if (raw && contentType.startsWith('application/json')) {
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          return send(res, 200, { ok: false, error: 'invalid_json' });
        }
      } else if (raw) {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
      requests.push({ method: req.method ?? 'GET', apiMethod, query: Object.fromEntries(url.searchParams), headers: { ...req.headers } as Record<string, string | undefined>, body });

      const canned = queued.shift();
      if (canned) return send(res, canned.status, canned.body ?? '', canned.headers);

      const args: Record<string, unknown> = { ...Object.fromEntries(url.searchParams), ...body };
      const warning = body && contentType.startsWith('application/json') && !/charset=utf-8/i.test(contentType) ? 'missing_charset' : null;
      const reply = (payload: Record<string, unknown>) =>
        send(res, 200, warning ? { ...payload, warning, response_metadata: { ...(payload.response_metadata as object), warnings: [warning] } } : payload);

      const method = METHODS[apiMethod];
      if (!method) return send(res, 404, { ok: false, error: 'unknown_method', req_method: apiMethod });
      const authorization = req.headers.authorization;
      const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : (args.token as string | undefined);
      if (!token) return reply({ ok: false, error: 'not_authed' });
      const scopes = tokens[token];
      if (!scopes) return reply({ ok: false, error: 'invalid_auth' });
      const needed = method.scope(args);
      const lacking = needed.filter((s) => !scopes.includes(s));
      if (lacking.length) return reply({ ok: false, error: 'missing_scope', needed: lacking.join(','), provided: scopes.join(',') });
      return reply(apiMethod === 'chat.postMessage' ? postMessage(args) : listConversations(args));
    });
  });

  function findChannel(ref: unknown): StandInChannel | undefined {
    if (typeof ref !== 'string') return undefined;
    const name = ref.replace(/^#/, '');
    return channels.find((c) => c.id === ref || c.name === name);
  }

  function postMessage(args: Record<string, unknown>): Record<string, unknown> {
    const channel = findChannel(args.channel);
    if (!channel || (channel.is_private && !channel.is_member)) return { ok: false, error: 'channel_not_found' };
    if (channel.is_archived) return { ok: false, error: 'is_archived' };
    if (!channel.is_member) return { ok: false, error: 'not_in_channel' };
    const text = typeof args.text === 'string' ? args.text : '';
    if (!text && !args.blocks && !args.attachments) return { ok: false, error: 'no_text' };
    if (text.length > 40_000) return { ok: false, error: 'msg_too_long' };
    const ts = `${clock++}.${String(++sequence).padStart(6, '0')}`;
    const message = { ts, text, user: BOT_USER, bot_id: BOT_ID, ...(typeof args.thread_ts === 'string' ? { thread_ts: args.thread_ts } : {}) };
    channel.messages.push(message);
    return { ok: true, channel: channel.id, ts, message: { type: 'message', subtype: 'bot_message', app_id: 'A0APP00001', team: TEAM, ...message } };
  }

  function listConversations(args: Record<string, unknown>): Record<string, unknown> {
    const limit = args.limit === undefined ? 100 : Number(args.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return { ok: false, error: 'invalid_limit' };
    const types = String(args.types ?? 'public_channel').split(',');
    if (types.some((t) => !['public_channel', 'private_channel', 'mpim', 'im'].includes(t))) return { ok: false, error: 'invalid_types' };
    const excludeArchived = args.exclude_archived === 'true' || args.exclude_archived === '1' || args.exclude_archived === true;
    const matching = channels.filter((c) => (c.is_private ? types.includes('private_channel') && c.is_member : types.includes('public_channel')) && !(excludeArchived && c.is_archived));
    let start = 0;
    if (typeof args.cursor === 'string' && args.cursor !== '') {
      const decoded = Buffer.from(args.cursor, 'base64').toString('utf8');
      const match = /^team:(C\w+)$/.exec(decoded);
      start = match ? matching.findIndex((c) => c.id === match[1]) : -1;
      if (start === -1) return { ok: false, error: 'invalid_cursor' };
    }
    const page = matching.slice(start, start + Math.min(limit, standIn.maxPageSize));
    const next = matching[start + page.length];
    return {
      ok: true,
      channels: page.map(channelJson),
      response_metadata: { next_cursor: next ? Buffer.from(`team:${next.id}`).toString('base64') : '' },
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  standIn.url = `http://127.0.0.1:${port}`;
  return standIn;
}

/** The Web API methods served, with the scopes each needs for its arguments. */
const METHODS: Record<string, { scope(args: Record<string, unknown>): string[] }> = {
  'chat.postMessage': { scope: () => ['chat:write'] },
  'conversations.list': {
    scope: (args) => {
      const types = String(args.types ?? 'public_channel').split(',');
      const needed: string[] = [];
      if (types.includes('public_channel')) needed.push('channels:read');
      if (types.includes('private_channel')) needed.push('groups:read');
      if (types.includes('mpim')) needed.push('mpim:read');
      if (types.includes('im')) needed.push('im:read');
      return needed;
    },
  },
};

function channelJson(c: StandInChannel): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    is_channel: !c.is_private,
    is_group: c.is_private,
    is_im: false,
    is_mpim: false,
    is_private: c.is_private,
    created: c.created,
    is_archived: c.is_archived,
    is_general: c.name === 'general',
    unlinked: 0,
    name_normalized: c.name,
    is_shared: false,
    is_org_shared: false,
    is_ext_shared: false,
    is_pending_ext_shared: false,
    pending_shared: [],
    context_team_id: TEAM,
    updated: c.created * 1000,
    creator: 'U0CREATOR1',
    is_member: c.is_member,
    topic: { value: c.topic, creator: '', last_set: 0 },
    purpose: { value: c.purpose, creator: '', last_set: 0 },
    previous_names: [],
    num_members: c.num_members,
  };
}

function seedChannels(): StandInChannel[] {
  const channel = (n: number, name: string, extra: Partial<StandInChannel> = {}): StandInChannel => ({
    id: `C0${String(n).padStart(8, '0')}`,
    name,
    is_private: false,
    is_archived: false,
    is_member: true,
    num_members: 3 + n,
    topic: '',
    purpose: '',
    created: 1_600_000_000 + n,
    messages: [],
    ...extra,
  });
  return [
    channel(1, 'general', { topic: 'Company-wide announcements', purpose: 'Everyone is here' }),
    channel(2, 'random', { purpose: 'Non-work banter' }),
    channel(3, 'deploys', { topic: 'Deploy notifications' }),
    channel(4, 'design', { is_member: false }),
    channel(5, 'old-project', { is_archived: true }),
    channel(6, 'support'),
    channel(7, 'leadership', { is_private: true, is_member: true }),
    channel(8, 'hr-private', { is_private: true, is_member: false }),
    channel(9, 'engineering'),
  ];
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', 'x-slack-req-id': 'standin', ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => resolve(raw));
    req.on('error', reject);
  });
}
