import { webhookHostAllowed } from '../oauth-client/oauth-client.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** The longest webhook URL taken. */
export const CLIENT_WEBHOOK_URL_MAX_LENGTH = 2000;

/**
 * Why a client may not be sent webhooks at `url`, or null when it may: the URL must be absolute,
 * https (http only on localhost, 127.0.0.1 or [::1]), without user info or fragment, and its host
 * must match one of the client's `webhook_domains` (exactly, or a subdomain of a `*.` entry).
 * Checked when an execute names the URL and again before every delivery attempt (the domains
 * may have changed since). Internal addresses are refused on top of this by the outbound HTTP
 * adapter's SSRF guard, at connect time.
 */
export function clientWebhookUrlProblem(url: unknown, webhookDomains: readonly string[]): string | null {
  if (typeof url !== 'string' || !url) return 'must be a non-empty string';
  if (url.length > CLIENT_WEBHOOK_URL_MAX_LENGTH) return `must be at most ${CLIENT_WEBHOOK_URL_MAX_LENGTH} characters`;
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return 'must not contain whitespace or control characters';
  if (/[^\u0020-\u007e]/.test(url)) return 'must be ASCII (percent-encode other characters)';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.username || parsed.password) return 'must not contain user info';
  if (url.includes('#')) return 'must not have a fragment';
  if (parsed.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(parsed.hostname)) return 'must use https (http only for localhost or 127.0.0.1)';
  } else if (parsed.protocol !== 'https:') {
    return 'must use https (http only for localhost or 127.0.0.1)';
  }
  if (webhookDomains.length === 0) return "the client has no webhook_domains registered";
  if (!webhookHostAllowed(parsed.hostname, webhookDomains)) return `its host ${parsed.hostname} is not in the client's webhook_domains`;
  return null;
}
