import { ValidationError } from '../errors/domain.errors.js';
import { webhookHostAllowed } from '../oauth-client/oauth-client.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks an execute request's `webhook_url` against its app: an absolute https URL (http only
 * for localhost, 127.0.0.1, [::1]), without user info, at most 2000 characters, whose host is
 * among the app's webhook domains (exactly, or under a `*.` entry). A ValidationError (422)
 * naming the problem otherwise. Answers the URL as given.
 */
export function checkWebhookUrl(value: unknown, webhookDomains: readonly string[]): string {
  const fail = (message: string): never => {
    throw new ValidationError(`webhook_url ${message}`, [{ path: '/webhook_url', message }]);
  };
  if (typeof value !== 'string' || !value) return fail('must be a non-empty string');
  if (value.length > 2000) fail('must be at most 2000 characters');
  if (/[\s\u0000-\u001f\u007f]/.test(value)) fail('must not contain whitespace or control characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('must be an absolute URL');
  }
  if (url.username || url.password) fail('must not contain user info');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) fail('must use https (http only for localhost or 127.0.0.1)');
  if (!webhookDomains.length) fail("cannot be used: this app registered no webhook_domains");
  if (!webhookHostAllowed(url.hostname, webhookDomains)) fail(`host ${url.hostname} is not among this app's webhook_domains (${webhookDomains.join(', ')})`);
  return value;
}
