import { ActionError, defineBlock, type FetchRequest, type FetchResponse } from '@blockyard/plugin-sdk';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface HttpRequestInputs {
  /** Absolute http(s) URL. */
  url: string;
  method: HttpMethod;
  headers: Record<string, string>;
  /** Added to the URL's query string. */
  query: Record<string, string | number | boolean>;
  /** Any JSON value, sent as JSON. */
  body?: unknown;
  /** Sent as is (set content-type yourself in `headers`). */
  body_text?: string;
  /** Time limit of the request itself. */
  timeout_ms?: number;
}

/**
 * http.request: one HTTP request to any public URL. Every answer, 4xx and 5xx included, is a
 * result (`status`, `headers`, `body`); only a request that gets no answer fails the run.
 */
export const httpRequest = defineBlock<HttpRequestInputs>(async function* (inputs, context) {
  const method = inputs.method ?? 'GET';
  const hasJson = inputs.body !== undefined;
  const hasText = inputs.body_text !== undefined;
  if (hasJson && hasText) throw new ActionError('give either body (sent as JSON) or body_text, not both');
  if ((hasJson || hasText) && (method === 'GET' || method === 'HEAD')) throw new ActionError(`a ${method} request cannot have a body`);

  const request: FetchRequest = { method, headers: { ...inputs.headers } };
  if (inputs.query && Object.keys(inputs.query).length > 0) request.query = { ...inputs.query };
  if (hasJson) request.json = inputs.body;
  else if (hasText) request.body = inputs.body_text;
  if (inputs.timeout_ms !== undefined) request.timeoutMs = inputs.timeout_ms;

  let response: FetchResponse;
  try {
    response = await context.fetch(inputs.url, request);
  } catch (e) {
    if (context.signal.aborted) throw e; // cancelled or timed out: the engine reports it
    throw requestFailure(e);
  }
  yield ['status', response.status];
  yield ['headers', response.headers];
  yield ['body', response.data];
});

/**
 * The failure of a request that got no answer, naming the reason's code
 * (blocked_address, timeout, network, too_many_redirects, response_too_large, invalid_url).
 */
export function requestFailure(e: unknown): ActionError {
  const error = e as { name?: unknown; code?: unknown; message?: unknown } | null;
  const message = typeof error?.message === 'string' && error.message ? error.message : String(e);
  if (error?.name === 'OutboundRequestError' && typeof error.code === 'string') {
    return new ActionError(error.code === 'blocked_address' ? `request refused: blocked_address: ${message}` : `request failed: ${error.code}: ${message}`);
  }
  return new ActionError(`request failed: ${message}`);
}
