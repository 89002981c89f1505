/** Methods retried without `retry: true`: repeating them does not repeat their effect. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** 429 Too Many Requests and every 5xx are worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Milliseconds a `Retry-After` value asks to wait (delay-seconds or an HTTP date, never
 * negative), or null when it is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | null {
  if (value === undefined) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = /[a-z]/i.test(trimmed) ? Date.parse(trimmed) : NaN; // an HTTP date names its day and month
  if (Number.isNaN(date)) return null;
  return Math.max(0, date - now);
}

export interface BackoffOptions {
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * How long to wait before retry number `retry` (1 for the first retry): what `Retry-After`
 * asks for when the response has it, else exponential backoff (base × 2^(retry-1)) with
 * equal jitter (a random point in its upper half); both capped at `maxDelayMs`.
 */
export function retryDelayMs(retry: number, retryAfter: string | undefined, options: BackoffOptions, random: () => number = Math.random, now?: number): number {
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== null) return Math.min(asked, options.maxDelayMs);
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (retry - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}
