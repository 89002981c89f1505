import { ActionError, type BlockContext, type FetchResponse } from '@blockyard/plugin-sdk';

/** One entry of a GraphQL answer's `errors`, as Linear sends it. */
export interface LinearGraphqlError {
  message?: string;
  path?: Array<string | number>;
  extensions?: {
    /** 'authentication error', 'forbidden', 'invalid input', 'ratelimited', ... */
    type?: string;
    code?: string;
    userPresentableMessage?: string;
    userError?: boolean;
  };
}

interface GraphqlBody<T> {
  data?: T | null;
  errors?: LinearGraphqlError[];
}

/**
 * POSTs one GraphQL operation to Linear (`/graphql`, `{ query, variables }`) and answers its
 * `data`. Linear reports failures in `errors` (with HTTP 200 or 400, or 401 / 429); any of them,
 * a non-2xx status, or an answer that cannot be reached becomes an ActionError that says what
 * went wrong without the credential. `retry` lets the platform retry a read on 429 and 5xx.
 */
export async function linearGraphql<T>(context: BlockContext, query: string, variables: Record<string, unknown>, options: { retry?: boolean } = {}): Promise<T> {
  let response: FetchResponse<GraphqlBody<T> | string>;
  try {
    response = await context.fetch<GraphqlBody<T> | string>('/graphql', {
      method: 'POST',
      headers: { accept: 'application/json' },
      json: { query, variables },
      ...(options.retry ? { retry: true } : {}),
    });
  } catch (e) {
    if (context.signal.aborted) throw e;
    throw unreachable(e);
  }
  const body = typeof response.data === 'object' && response.data !== null ? response.data : {};
  const errors = Array.isArray(body.errors) ? body.errors : [];
  if (errors.length > 0 || !response.ok) throw linearError(response.status, response.headers, errors, typeof response.data === 'string' ? response.data : '');
  if (body.data === undefined || body.data === null) throw new ActionError('Linear: the answer had no data');
  return body.data;
}

/** The ActionError for a failed Linear answer: rate limit, credential, permission, not found, invalid input, or other. */
export function linearError(status: number, headers: Record<string, string>, errors: readonly LinearGraphqlError[], text = ''): ActionError {
  const types = errors.map((e) => (e.extensions?.type ?? '').toLowerCase());
  const codes = errors.map((e) => (e.extensions?.code ?? '').toUpperCase());
  const has = (type: string, code: string) => types.includes(type) || codes.includes(code);
  const detail = describe(errors) || text.trim().slice(0, 200) || `HTTP ${status}`;

  if (status === 429 || has('ratelimited', 'RATELIMITED')) {
    const seconds = retryAfterSeconds(headers);
    return new ActionError(seconds === null ? 'Linear: rate limited; retry later' : `Linear: rate limited; retry after ${seconds} s`);
  }
  if (status === 401 || has('authentication error', 'AUTHENTICATION_ERROR')) return new ActionError(`Linear: credential rejected: ${detail}`);
  if (status === 403 || has('forbidden', 'FORBIDDEN')) return new ActionError(`Linear: permission denied: ${detail}`);
  if (status === 404 || errors.some((e) => /entity not found|could not find/i.test(`${e.message ?? ''} ${e.extensions?.userPresentableMessage ?? ''}`))) {
    return new ActionError(`Linear: not found: ${detail}`);
  }
  if (status === 400 || status === 422 || has('invalid input', 'INVALID_INPUT') || has('graphql error', 'GRAPHQL_VALIDATION_FAILED') || has('user error', 'USER_ERROR')) {
    return new ActionError(`Linear: invalid request: ${detail}`);
  }
  if (status >= 500) return new ActionError(`Linear: HTTP ${status}: ${detail}`);
  return new ActionError(`Linear: ${detail}`);
}

/** Each distinct message once, the user-presentable one first. */
function describe(errors: readonly LinearGraphqlError[]): string {
  const messages = errors.map((e) => e.extensions?.userPresentableMessage || e.message).filter((m): m is string => typeof m === 'string' && m.length > 0);
  return [...new Set(messages)].join('; ');
}

/** Seconds to wait: Retry-After (seconds or a date), else Linear's X-RateLimit-*-Reset (epoch ms). */
export function retryAfterSeconds(headers: Record<string, string>, now = Date.now()): number | null {
  const retryAfter = headers['retry-after'];
  if (retryAfter !== undefined && retryAfter.trim() !== '') {
    if (/^\d+(\.\d+)?$/.test(retryAfter.trim())) return Math.max(1, Math.ceil(Number(retryAfter)));
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) return Math.max(1, Math.ceil((at - now) / 1000));
  }
  const resets = ['x-ratelimit-requests-reset', 'x-ratelimit-complexity-reset'].map((h) => Number(headers[h])).filter((n) => Number.isFinite(n) && n > 0);
  if (resets.length > 0) return Math.max(1, Math.ceil((Math.max(...resets) - now) / 1000));
  return null;
}

/** A request that got no answer (refused address, timeout, network). */
function unreachable(e: unknown): ActionError {
  const error = e as { name?: unknown; code?: unknown; message?: unknown } | null;
  const code = error?.name === 'OutboundRequestError' && typeof error.code === 'string' ? `${error.code}: ` : '';
  return new ActionError(`Linear: could not reach the API: ${code}${typeof error?.message === 'string' ? error.message : String(e)}`);
}
