/**
 * Outbound HTTP for block handlers (`context.fetch`): credential injection as the provider
 * declares it, timeouts, retries, response parsing, and a guard against requests to internal
 * addresses (SSRF). The adapter does the I/O; core only describes it.
 */

/** How a run's credential goes into its requests. Decided by the provider's declared auth. */
export type CredentialInjection =
  | { type: 'bearer'; token: string }
  | { type: 'header'; name: string; value: string }
  | { type: 'query'; name: string; value: string }
  | { type: 'basic'; username: string; password: string }
  /** Headers sent only to this host (exact hostname match, any port). */
  | { type: 'host_scoped'; host: string; headers: Record<string, string> };

export interface FetchRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Added to the URL's query string. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON (sets content-type). */
  json?: unknown;
  /** Sent as is. */
  body?: string | Uint8Array;
  /** Per-request time limit (each attempt). */
  timeoutMs?: number;
  /** Retry a non-idempotent method (POST, PATCH) on network errors, 429 and 5xx too. */
  retry?: boolean;
  /** `follow` (default) follows redirects; `manual` answers a 3xx response as it is (outbound webhooks never follow one). */
  redirect?: 'follow' | 'manual';
  /**
   * Read the response body to its end but keep none of it: `data` is '' (for callers that need
   * only the status and headers, like outbound webhooks). Everything else is as when it is kept:
   * the body is still read within the time limit, and a body past the size limit still fails.
   */
  discardBody?: boolean;
}

export interface FetchResponse<T = unknown> {
  status: number;
  ok: boolean;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON when the response says it is JSON, else the text ('' when empty; always '' with `discardBody`). */
  data: T;
  /** The final URL, after redirects. */
  url: string;
}

/** `context.fetch`: a relative URL is resolved against the provider's base URL. */
export type ContextFetch = <T = unknown>(url: string, request?: FetchRequest) => Promise<FetchResponse<T>>;

export interface OutboundFetchOptions {
  credential?: CredentialInjection;
  /** Base for relative URLs, e.g. https://api.github.com. */
  baseUrl?: string;
  /** Aborts every request of the run (cancel, timeout). */
  signal?: AbortSignal;
}

/** Errors of context.fetch that are not HTTP statuses. */
export type OutboundErrorCode = 'blocked_address' | 'timeout' | 'network' | 'too_many_redirects' | 'response_too_large' | 'invalid_url' | 'aborted';

export class OutboundRequestError extends Error {
  constructor(
    readonly code: OutboundErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundRequestError';
  }
}

export interface OutboundHttp {
  /** A fetch for one run: its credential, base URL and abort signal bound in. */
  createFetch(options: OutboundFetchOptions): ContextFetch;
}
export const OutboundHttp = Symbol.for('blockyard/OutboundHttp');
