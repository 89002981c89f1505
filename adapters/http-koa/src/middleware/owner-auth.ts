import type { Context, Next } from 'koa';
import { API_KEY_SCOPES, PermissionError, UnauthorizedError, type AccessTokenVerifier, type ApiKeyService, type Principal, type SessionService } from '@blockyard/core';
import { authenticate, bearerToken } from './api-key-auth.js';
import { SESSION_COOKIE } from './session-auth.js';

/**
 * Authenticates a user acting for themselves: a full-access API key (X-API-Key or
 * `Bearer byk_...`), or the session cookie of our pages. An app's OAuth access token is refused
 * (403): what is behind this (registering apps, say) is the user's own business. So is a key
 * lacking any API key scope (403 naming them): whoever manages an app can point its redirect
 * URIs anywhere and mint its secret, so, as for creating keys (no escalation), only a key
 * holding every scope may. A cookie-authenticated change must come from our own origin (the
 * Origin header, when a browser sends one), against CSRF.
 */
export function ownerAuth(deps: { apiKeys: ApiKeyService; sessions?: SessionService | null; bearer?: AccessTokenVerifier | null; what: string }) {
  return async function ownerAuthMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.principal = await ownerOf(ctx, deps);
    await next();
  };
}

async function ownerOf(ctx: Context, deps: { apiKeys: ApiKeyService; sessions?: SessionService | null; bearer?: AccessTokenVerifier | null; what: string }): Promise<Principal> {
  if (ctx.get('x-api-key') || bearerToken(ctx) !== undefined) {
    const principal = await authenticate(ctx, deps.apiKeys, deps.bearer);
    if (principal.clientId) throw new PermissionError(`${deps.what} needs your API key or your signed-in session, not an app's access token`);
    const missing = missingApiKeyScopes(principal);
    if (missing.length) throw new PermissionError(`${deps.what} needs a full-access API key (every scope) or your signed-in session; this key lacks ${missing.join(', ')}`);
    return principal;
  }
  const resolved = deps.sessions ? await deps.sessions.resolve(ctx.cookies.get(SESSION_COOKIE)) : null;
  if (!resolved) throw new UnauthorizedError('sign in, or send an API key (X-API-Key or Authorization: Bearer)');
  if (!['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) {
    const origin = ctx.get('origin');
    if (origin && origin !== `${ctx.protocol}://${ctx.host}`) throw new PermissionError('cross-site request refused: send it from this site, or use an API key');
  }
  return { userId: resolved.user.id, scopes: new Set(), via: `session:${resolved.user.id}` };
}

/**
 * The API key scopes the principal does not hold; none for a full-access key. The same test as
 * `ApiKeyService.createApiKey` makes of its grantor (a key grants only scopes it holds), for
 * every scope at once.
 */
export function missingApiKeyScopes(principal: Principal): string[] {
  return API_KEY_SCOPES.filter((s) => !principal.scopes.has(s));
}
