// How this plugin talks to the GitHub REST API: the headers every request carries, paths built
// from user input, and GitHub's error answers turned into messages a user can act on.
import { ActionError, type FetchResponse } from '@blockyard/plugin-sdk';

/** Sent with every request: the media type and the REST API version this plugin is written against. */
export const GITHUB_HEADERS: Readonly<Record<string, string>> = {
  accept: 'application/vnd.github+json',
  'x-github-api-version': '2022-11-28',
};

/** `/repos/{owner}/{repo}` with each name escaped (the input schemas already restrict them). */
export function repoPath(owner: string, repo: string): string {
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
}

/** GitHub's error body: `{ message, documentation_url, errors?, status? }`. */
interface GitHubErrorBody {
  message?: unknown;
  errors?: unknown;
}

/** What a failed request was about, for the messages: `issue octo/hello#7`, `repository octo/hello`. */
export interface ErrorSubject {
  /** Named in the 404 message. */
  resource: string;
}

/**
 * The ActionError for a GitHub answer that is not a success. Never includes the credential:
 * only GitHub's own message, the status and the resource the caller named.
 */
export function githubError(res: FetchResponse, subject: ErrorSubject, now: number = Date.now()): ActionError {
  const message = errorMessage(res.data);
  const detail = message ? `: ${message}` : '';
  const limited = rateLimit(res, message, now);
  if (limited !== null) return new ActionError(`GitHub rate limited the request (${res.status})${detail}; retry after ${limited} s`);
  switch (res.status) {
    case 401:
      return new ActionError(`GitHub rejected the credential (401)${detail}`);
    case 403:
      return new ActionError(`GitHub refused access to ${subject.resource} (403)${detail}; check the credential's scopes and permissions`);
    case 404:
      return new ActionError(`GitHub: ${subject.resource} not found (404), or the credential cannot see it`);
    case 410:
      return new ActionError(`GitHub: ${subject.resource} is gone (410)${detail}`);
    case 422:
      return new ActionError(`GitHub rejected the request (422)${detail}${validationDetails(res.data)}`);
    default:
      return new ActionError(`GitHub answered ${res.status}${detail}`);
  }
}

/** A success's JSON object body, or an ActionError naming what was missing from it. */
export function expectObject<T>(res: FetchResponse, what: string): T {
  if (res.data === null || typeof res.data !== 'object' || Array.isArray(res.data)) throw new ActionError(`GitHub answered ${res.status} without ${what} in its body`);
  return res.data as T;
}

/** A success's JSON array body, or an ActionError naming what was missing from it. */
export function expectArray<T>(res: FetchResponse, what: string): T[] {
  if (!Array.isArray(res.data)) throw new ActionError(`GitHub answered ${res.status} without ${what} in its body`);
  return res.data as T[];
}

function errorMessage(data: unknown): string {
  if (typeof data === 'string') return data.trim().slice(0, 300);
  const message = (data as GitHubErrorBody | null)?.message;
  return typeof message === 'string' ? message : '';
}

/**
 * Seconds to wait when the answer is a rate limit, else null. GitHub answers a primary rate
 * limit with 403 or 429 and `x-ratelimit-remaining: 0` (reset at `x-ratelimit-reset`, epoch
 * seconds), a secondary one with 403 or 429 and usually `retry-after`; without either header
 * its docs say to wait at least a minute.
 */
function rateLimit(res: FetchResponse, message: string, now: number): number | null {
  const retryAfter = res.headers['retry-after'];
  const remaining = res.headers['x-ratelimit-remaining'];
  const limited = res.status === 429 || (res.status === 403 && (remaining === '0' || retryAfter !== undefined || /rate limit/i.test(message)));
  if (!limited) return null;
  if (retryAfter !== undefined && /^\d+$/.test(retryAfter.trim())) return Number(retryAfter.trim());
  const reset = Number(res.headers['x-ratelimit-reset']);
  if (remaining === '0' && Number.isFinite(reset) && reset > 0) return Math.max(0, Math.ceil(reset - now / 1000));
  return 60;
}

const CODE_PHRASES: Record<string, string> = {
  missing: 'does not exist',
  missing_field: 'is required',
  invalid: 'is invalid',
  already_exists: 'already exists',
  unprocessable: 'cannot be processed',
};

/** `: title is required; assignees "ghost" is invalid` from a 422's `errors` list. */
function validationDetails(data: unknown): string {
  const errors = (data as GitHubErrorBody | null)?.errors;
  if (!Array.isArray(errors) || errors.length === 0) return '';
  const parts = errors.map((e: unknown) => {
    if (typeof e === 'string') return e;
    if (!e || typeof e !== 'object') return JSON.stringify(e);
    const { resource, field, code, message, value } = e as Record<string, unknown>;
    if (typeof message === 'string' && message) return typeof field === 'string' ? `${field}: ${message}` : message;
    const what = typeof field === 'string' ? field : typeof resource === 'string' ? resource : 'a field';
    const shown = value === undefined ? '' : ` ${JSON.stringify(value)}`;
    return `${what}${shown} ${(typeof code === 'string' && CODE_PHRASES[code]) || `is ${String(code ?? 'invalid')}`}`;
  });
  return ` (${parts.join('; ')})`;
}
