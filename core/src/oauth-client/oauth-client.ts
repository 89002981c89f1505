import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SchemaIssue } from '@blockyard/contracts';
import { ValidationError } from '../errors/domain.errors.js';
import type { EncryptedSecret } from '../credential/secret-cipher.port.js';
import { isOAuthScope, OAUTH_SCOPES } from './oauth-scope.js';

/** confidential: a server that keeps a secret; public: a browser or mobile app (no secret, PKCE only). */
export const OAUTH_CLIENT_TYPES = ['confidential', 'public'] as const;
export type OAuthClientType = (typeof OAUTH_CLIENT_TYPES)[number];

/** Every client id starts with this. */
export const OAUTH_CLIENT_ID_PREFIX = 'app_';
/** Every client secret starts with this, so that a leaked one is easy to recognise in a scan. */
export const OAUTH_CLIENT_SECRET_PREFIX = 'secret_';
/** Every webhook signing secret starts with this. */
export const OAUTH_WEBHOOK_SECRET_PREFIX = 'whsec_';

/** Bounds of what one client may register. */
export const OAUTH_CLIENT_LIMITS = { nameLength: 100, descriptionLength: 500, redirectUris: 10, uriLength: 2000, webhookDomains: 20 } as const;

/**
 * A third-party application registered by a user (its owner). Its secret is kept only as a
 * SHA-256 hash (the secret has 256 bits of entropy, so a fast hash suffices, as for API keys);
 * its webhook signing secret is sealed with the SecretCipher, because webhooks must be signed
 * with the secret itself.
 */
export interface OAuthClient {
  /** The client_id, `app_...`. */
  readonly id: string;
  /** The user who registered it and manages it. */
  readonly userId: string;
  /** Shown to users on the consent page. */
  readonly name: string;
  readonly description: string;
  readonly type: OAuthClientType;
  /** Hex SHA-256 of the client secret; null for public clients. */
  readonly secretHash: string | null;
  /** Where authorization responses may go: exact strings, compared as they are. */
  readonly redirectUris: readonly string[];
  /** Hosts webhooks may be sent to: `example.com` exactly, or `*.example.com` for its subdomains. */
  readonly webhookDomains: readonly string[];
  /**
   * The scopes it may ever request (each a known scope, at least one); absent: every scope the
   * server knows, now and later. Asking for another one is `invalid_scope`.
   */
  readonly scopes?: readonly string[];
  /** The webhook signing secret, sealed (associated data: {@link webhookSecretAssociatedData}). */
  readonly webhookSecret: EncryptedSecret;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Set while the client is disabled: it can neither authorize nor use its tokens. */
  readonly disabledAt: Date | null;
}

/** The fields of a client that may change after registration; `scopes: null` lifts its scope allow-list. */
export type OAuthClientPatch = Partial<Pick<OAuthClient, 'name' | 'description' | 'secretHash' | 'redirectUris' | 'webhookDomains' | 'webhookSecret' | 'disabledAt'>> & {
  readonly scopes?: readonly string[] | null;
  readonly updatedAt: Date;
};

/** A new client secret: `secret_` + 43 url-safe characters (256 bits). */
export function generateClientSecret(): string {
  return OAUTH_CLIENT_SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** A new webhook signing secret: `whsec_` + 43 url-safe characters (256 bits). */
export function generateWebhookSecret(): string {
  // Standard base64, as Standard Webhooks libraries expect after `whsec_`.
  return OAUTH_WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether `secret` is the client secret whose hash is `secretHash` (constant time). */
export function clientSecretMatches(secretHash: string | null, secret: string | undefined | null): boolean {
  if (!secretHash || typeof secret !== 'string' || !secret || secret.length > 500) return false;
  const a = Buffer.from(secretHash, 'hex');
  const b = Buffer.from(hashClientSecret(secret), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What the webhook secret is sealed with as associated data: it opens for this client only. */
export function webhookSecretAssociatedData(clientId: string): string {
  return `oauth-client:${clientId}:webhook`;
}

/** An active client can authorize and use its tokens. */
export function isOAuthClientActive(client: OAuthClient): boolean {
  return client.disabledAt === null;
}

/** The scopes a client may request: its allow-list, or every known scope without one. */
export function oauthClientScopes(client: Pick<OAuthClient, 'scopes'>): readonly string[] {
  return client.scopes ?? OAUTH_SCOPES;
}

/**
 * Checks a scope allow-list: 1 or more known scopes (see OAUTH_SCOPES), kept in the order given
 * without duplicates.
 */
export function checkOAuthClientScopes(values: readonly unknown[], path = '/scopes'): string[] {
  const issues: SchemaIssue[] = [];
  if (values.length < 1) issues.push({ path, message: 'at least one scope is required (leave scopes out to allow every scope)' });
  const out = new Set<string>();
  values.forEach((value, i) => {
    if (typeof value !== 'string' || !isOAuthScope(value)) issues.push({ path: `${path}/${i}`, message: `is not a known scope (known: ${OAUTH_SCOPES.join(', ')})` });
    else out.add(value);
  });
  if (issues.length) {
    const unknown = values.filter((v) => typeof v !== 'string' || !isOAuthScope(v)).map((v) => JSON.stringify(v).slice(0, 100));
    throw new ValidationError(`invalid scopes: ${unknown.length ? `unknown scope ${unknown.join(', ')}` : issues[0]!.message}`, issues);
  }
  return [...out];
}

/**
 * The web origins of a client's redirect URIs (`https://app.example.com`): where its browser
 * app runs, so the only origins whose scripts may read answers made for the client's tokens.
 */
export function redirectUriOrigins(redirectUris: readonly string[]): Set<string> {
  const origins = new Set<string>();
  for (const uri of redirectUris) {
    const origin = URL.parse(uri)?.origin;
    if (origin && origin !== 'null') origins.add(origin);
  }
  return origins;
}

/** Whether `origin` (an Origin header) is the origin of one of these redirect URIs; never for `null` or an empty one. */
export function originOfRedirectUris(origin: string | undefined | null, redirectUris: readonly string[]): boolean {
  return Boolean(origin) && origin !== 'null' && redirectUriOrigins(redirectUris).has(origin!);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks redirect URIs: 1 to 10 absolute URLs, https, or http on localhost / 127.0.0.1 / [::1]
 * only; no fragment, no user info, no whitespace. They are kept exactly as given, because the
 * authorization request must repeat one of them exactly.
 */
export function checkRedirectUris(values: readonly unknown[], path = '/redirect_uris'): string[] {
  const issues: SchemaIssue[] = [];
  if (values.length < 1) issues.push({ path, message: 'at least one redirect URI is required' });
  if (values.length > OAUTH_CLIENT_LIMITS.redirectUris) issues.push({ path, message: `at most ${OAUTH_CLIENT_LIMITS.redirectUris} redirect URIs` });
  const seen = new Set<string>();
  values.forEach((value, i) => {
    const problem = redirectUriProblem(value);
    if (problem) issues.push({ path: `${path}/${i}`, message: problem });
    else if (seen.has(value as string)) issues.push({ path: `${path}/${i}`, message: 'is a duplicate' });
    else seen.add(value as string);
  });
  if (issues.length) throw new ValidationError(`invalid redirect_uris: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`, issues);
  return [...seen];
}

function redirectUriProblem(value: unknown): string | null {
  if (typeof value !== 'string' || !value) return 'must be a non-empty string';
  if (value.length > OAUTH_CLIENT_LIMITS.uriLength) return `must be at most ${OAUTH_CLIENT_LIMITS.uriLength} characters`;
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return 'must not contain whitespace or control characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (value.includes('#')) return 'must not have a fragment';
  if (url.username || url.password) return 'must not contain user info';
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:') return LOOPBACK_HOSTS.has(url.hostname) ? null : 'must use https (http only for localhost or 127.0.0.1)';
  return 'must use https (http only for localhost or 127.0.0.1)';
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks webhook domains: up to 20 host names, lower-cased: `example.com` exactly, or
 * `*.example.com` for any subdomain of it (not example.com itself; the wildcard needs at least
 * two labels after it). IP literals and `localhost` are allowed exactly.
 */
export function checkWebhookDomains(values: readonly unknown[], path = '/webhook_domains'): string[] {
  const issues: SchemaIssue[] = [];
  if (values.length > OAUTH_CLIENT_LIMITS.webhookDomains) issues.push({ path, message: `at most ${OAUTH_CLIENT_LIMITS.webhookDomains} webhook domains` });
  const out = new Set<string>();
  values.forEach((value, i) => {
    const domain = typeof value === 'string' ? value.trim().toLowerCase().replace(/\.$/, '') : '';
    const problem = typeof value !== 'string' || !domain ? 'must be a non-empty string' : webhookDomainProblem(domain);
    if (problem) issues.push({ path: `${path}/${i}`, message: problem });
    else out.add(domain);
  });
  if (issues.length) throw new ValidationError(`invalid webhook_domains: ${issues.map((x) => `${x.path}: ${x.message}`).join('; ')}`, issues);
  return [...out];
}

function webhookDomainProblem(domain: string): string | null {
  if (domain.length > 253) return 'must be at most 253 characters';
  if (domain === 'localhost' || /^\d{1,3}(\.\d{1,3}){3}$/.test(domain)) return null;
  const wildcard = domain.startsWith('*.');
  const labels = (wildcard ? domain.slice(2) : domain).split('.');
  if (labels.some((l) => !LABEL.test(l))) return 'must be a host name like example.com or *.example.com';
  if (wildcard && labels.length < 2) return 'a wildcard must cover a domain with at least two labels, like *.example.com';
  return null;
}

/** Whether a webhook to `host` is allowed by the client's domains (exact, or a subdomain of a `*.` entry). */
export function webhookHostAllowed(host: string, domains: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return domains.some((d) => (d.startsWith('*.') ? h.endsWith(d.slice(1)) && h.length > d.length - 1 : h === d));
}
