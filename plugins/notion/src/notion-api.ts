import { ActionError, type BlockContext, type FetchResponse } from '@blockyard/plugin-sdk';

/** The API version every request pins (Notion-Version header). */
export const NOTION_VERSION = '2022-06-28';

/** Notion's error body: `{ object: 'error', status, code, message }`. */
export interface NotionErrorBody {
  object: 'error';
  status: number;
  code: string;
  message: string;
  request_id?: string;
}

/**
 * One request to the Notion API, relative to its base URL (`/pages`, `/databases/{id}/query`),
 * with the pinned Notion-Version; answers the JSON body of a 2xx. Any other answer, or none,
 * becomes an ActionError that says what went wrong without the credential. `retry` lets the
 * platform retry a read sent as POST (a database query) on 429 and 5xx.
 */
export async function notionRequest<T>(context: BlockContext, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown, options: { retry?: boolean } = {}): Promise<T> {
  let response: FetchResponse<T | NotionErrorBody | string>;
  try {
    response = await context.fetch<T | NotionErrorBody | string>(path, {
      method,
      headers: { 'Notion-Version': NOTION_VERSION, accept: 'application/json' },
      ...(body === undefined ? {} : { json: body }),
      ...(options.retry ? { retry: true } : {}),
    });
  } catch (e) {
    if (context.signal.aborted) throw e;
    throw unreachable(e);
  }
  if (!response.ok) throw notionError(response.status, response.headers, response.data);
  return response.data as T;
}

/** The ActionError for a Notion error answer, by its `code` (else its HTTP status). */
export function notionError(status: number, headers: Record<string, string>, data: unknown): ActionError {
  const body = typeof data === 'object' && data !== null ? (data as Partial<NotionErrorBody>) : {};
  const code = typeof body.code === 'string' ? body.code : '';
  const message = typeof body.message === 'string' && body.message ? body.message : typeof data === 'string' && data.trim() ? data.trim().slice(0, 200) : `HTTP ${status}`;

  if (code === 'rate_limited' || status === 429) {
    const seconds = retryAfterSeconds(headers['retry-after']);
    return new ActionError(seconds === null ? 'Notion: rate limited; retry later' : `Notion: rate limited; retry after ${seconds} s`);
  }
  if (code === 'unauthorized' || status === 401) return new ActionError(`Notion: credential rejected: ${message}`);
  if (code === 'restricted_resource' || status === 403) return new ActionError(`Notion: permission denied: ${message}`);
  if (code === 'object_not_found' || status === 404) return new ActionError(`Notion: not found: ${message}`);
  if (code === 'conflict_error' || status === 409) return new ActionError(`Notion: conflict, try again: ${message}`);
  if (['validation_error', 'invalid_json', 'invalid_request_url', 'invalid_request', 'missing_version'].includes(code) || status === 400 || status === 422) {
    return new ActionError(`Notion: invalid request: ${message}`);
  }
  return new ActionError(`Notion: HTTP ${status}${code ? ` ${code}` : ''}: ${message}`);
}

/** Retry-After in seconds (or an HTTP date), null when absent or unreadable. */
export function retryAfterSeconds(value: string | undefined, now = Date.now()): number | null {
  if (value === undefined || value.trim() === '') return null;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.max(1, Math.ceil(Number(value)));
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(1, Math.ceil((at - now) / 1000));
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/**
 * A page or database id as the API takes it, from an id (a UUID, with or without dashes) or a
 * Notion URL (https://www.notion.so/acme/Roadmap-0123456789abcdef0123456789abcdef?v=...).
 * Anything else is an ActionError naming `field`: it never reaches a request path.
 */
export function notionId(value: string, field: string): string {
  const trimmed = value.trim();
  if (UUID.test(trimmed)) return trimmed;
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      const match = /([0-9a-f]{32})$/i.exec(new URL(trimmed).pathname.replace(/\/+$/, ''));
      if (match) return match[1]!.toLowerCase();
    } catch {
      /* not a URL after all */
    }
  }
  throw new ActionError(`${field} is not a Notion id or URL: ${JSON.stringify(value.slice(0, 100))}`);
}

/** A request that got no answer (refused address, timeout, network). */
function unreachable(e: unknown): ActionError {
  const error = e as { name?: unknown; code?: unknown; message?: unknown } | null;
  const code = error?.name === 'OutboundRequestError' && typeof error.code === 'string' ? `${error.code}: ` : '';
  return new ActionError(`Notion: could not reach the API: ${code}${typeof error?.message === 'string' ? error.message : String(e)}`);
}
