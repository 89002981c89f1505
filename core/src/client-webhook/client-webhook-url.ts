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
  let hostname = wellFormedUrlHosts.get(url);
  if (hostname === undefined) {
    const shape = urlShape(url);
    if (shape.problem !== null) return shape.problem;
    hostname = shape.hostname;
    if (wellFormedUrlHosts.size >= WELL_FORMED_URLS_MAX) wellFormedUrlHosts.clear();
    wellFormedUrlHosts.set(url, hostname);
  }
  if (webhookDomains.length === 0) return "the client has no webhook_domains registered";
  if (!webhookHostAllowed(hostname, webhookDomains)) return `its host ${hostname} is not in the client's webhook_domains`;
  return null;
}

/** What a URL alone says: its problem, or its hostname when it has none (the domains are checked apart). */
type UrlShape = { readonly problem: string; readonly hostname: null } | { readonly problem: null; readonly hostname: string };

/** URLs whose hostname is kept, at most; the memo is emptied when it is full. */
const WELL_FORMED_URLS_MAX = 512;
/**
 * The hostname of each URL checked lately whose shape is right (absolute, https or loopback
 * http, no user info, no fragment): the same URL is checked on an execute and before each of
 * its deliveries, and parsing it is most of the check. Only what depends on the string alone is
 * kept (a URL refused for its shape is not: it is never delivered to); the client's domains,
 * which may change, are checked on every call.
 */
const wellFormedUrlHosts = new Map<string, string>();

function urlShape(url: string): UrlShape {
  const problem = (text: string): UrlShape => ({ problem: text, hostname: null });
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return problem('must not contain whitespace or control characters');
  if (/[^\u0020-\u007e]/.test(url)) return problem('must be ASCII (percent-encode other characters)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return problem('must be an absolute URL');
  }
  if (parsed.username || parsed.password) return problem('must not contain user info');
  if (url.includes('#')) return problem('must not have a fragment');
  if (parsed.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(parsed.hostname)) return problem('must use https (http only for localhost or 127.0.0.1)');
  } else if (parsed.protocol !== 'https:') {
    return problem('must use https (http only for localhost or 127.0.0.1)');
  }
  return { problem: null, hostname: parsed.hostname };
}
