// How this plugin talks to the Slack Web API. Slack answers most failures with HTTP 200 and
// `{ ok: false, error: 'channel_not_found' }`; rate limits with 429 and Retry-After.
// https://api.slack.com/web#responses, https://api.slack.com/apis/rate-limits
import { ActionError, type BlockContext, type FetchRequest, type FetchResponse } from '@blockyard/plugin-sdk';

/** Slack's answer envelope. */
export interface SlackResponse {
  ok: boolean;
  error?: string;
  warning?: string;
  /** missing_scope: the scope(s) the method needs, and those the token has. */
  needed?: string;
  provided?: string;
  response_metadata?: { next_cursor?: string; messages?: string[]; warnings?: string[] };
}

/** Errors meaning the credential itself is unusable. */
const CREDENTIAL_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'not_allowed_token_type',
  'no_permission',
  'org_login_required',
  'two_factor_setup_required',
  'team_access_not_granted',
]);

/** What a Slack error code means, where its name alone does not say what to do. */
const HINTS: Record<string, string> = {
  channel_not_found: 'the channel does not exist, or the bot cannot see it',
  not_in_channel: 'invite the bot to the channel first',
  is_archived: 'the channel is archived',
  msg_too_long: 'the text is longer than Slack accepts',
  no_text: 'the message has no text',
  restricted_action: 'the workspace does not let this bot post there',
  restricted_action_read_only_channel: 'the channel is read-only',
  restricted_action_thread_only_channel: 'the channel takes replies in threads only',
  restricted_action_non_threadable_channel: 'the channel does not take thread replies',
  restricted_action_thread_locked: 'the thread is locked',
  thread_not_found: 'there is no such thread_ts in the channel',
  invalid_cursor: 'the cursor is invalid or has expired',
  invalid_limit: 'the limit is out of range',
  invalid_types: 'the conversation types are invalid',
  invalid_arguments: 'Slack did not accept the arguments',
  invalid_json: 'Slack could not read the request body',
  fatal_error: 'Slack failed on its side; try again',
  internal_error: 'Slack failed on its side; try again',
  service_unavailable: 'Slack is unavailable; try again',
  request_timeout: 'Slack timed out; try again',
};

/** Headers of every call: the JSON bodies Slack reads best name their charset. */
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/**
 * Calls a Web API method (`chat.postMessage`, relative to https://slack.com/api) and returns its
 * body when `ok`; throws an ActionError naming what failed (`what`: "post to channel C1") otherwise.
 */
export async function callSlack<T extends SlackResponse>(context: Pick<BlockContext, 'fetch'>, method: string, request: FetchRequest, what: string): Promise<T> {
  const headers = request.json === undefined ? request.headers : { ...JSON_HEADERS, ...request.headers };
  const res = await context.fetch<T>(`/${method}`, { ...request, ...(headers ? { headers } : {}) });
  const body = res.data && typeof res.data === 'object' ? res.data : null;
  if (res.status === 429 || body?.error === 'ratelimited' || body?.error === 'rate_limited') throw rateLimited(res);
  if (!body || body.ok !== true) throw slackError(res, body, what);
  return body;
}

function rateLimited(res: FetchResponse): ActionError {
  const retryAfter = res.headers['retry-after']?.trim();
  const seconds = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) : 60;
  return new ActionError(`Slack rate limited the request${res.status === 429 ? ' (429)' : ''}; retry after ${seconds} s`);
}

/** The ActionError of a failed call. Never includes the credential: only Slack's error code and hints. */
export function slackError(res: FetchResponse, body: SlackResponse | null, what: string): ActionError {
  const code = typeof body?.error === 'string' ? body.error : null;
  if (!code) {
    const text = typeof res.data === 'string' && res.data.trim() ? `: ${res.data.trim().slice(0, 200)}` : '';
    return new ActionError(`Slack answered ${res.status} without a result when trying to ${what}${text}`);
  }
  if (CREDENTIAL_ERRORS.has(code) || res.status === 401) return new ActionError(`Slack rejected the credential: ${code}`);
  if (code === 'missing_scope') {
    const needed = body?.needed ? `needs ${body.needed}` : 'needs another scope';
    const provided = body?.provided ? `; it has ${body.provided}` : '';
    return new ActionError(`Slack could not ${what}: missing_scope (the credential ${needed}${provided})`);
  }
  const details = [HINTS[code], ...(body?.response_metadata?.messages ?? [])].filter((d): d is string => !!d);
  return new ActionError(`Slack could not ${what}: ${code}${details.length ? ` (${details.join('; ')})` : ''}`);
}
