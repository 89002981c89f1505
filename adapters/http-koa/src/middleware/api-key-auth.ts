import type { Context, Next } from 'koa';
import { API_KEY_PREFIX, UnauthorizedError, type AccessTokenVerifier, type ApiKeyService, type Principal } from '@blockyard/core';

/**
 * Authenticates the caller and puts them on ctx.state.principal: the X-API-Key header, or
 * `Authorization: Bearer <token>` where the token is an API key (`byk_...`) or an OAuth access
 * token (checked by `bearer`, the authorization server; its principal holds only the token's
 * scopes and names its client).
 */
export function apiKeyAuth(apiKeys: ApiKeyService, bearer?: AccessTokenVerifier | null) {
  return async function apiKeyAuthMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.principal = await authenticate(ctx, apiKeys, bearer);
    await next();
  };
}

/** The principal behind the request's X-API-Key or bearer token; UnauthorizedError when there is none or it is invalid. */
export async function authenticate(ctx: Context, apiKeys: ApiKeyService, bearer?: AccessTokenVerifier | null): Promise<Principal> {
  const key = ctx.get('x-api-key');
  const token = bearerToken(ctx);
  if (key || token === undefined) return apiKeys.authenticate(key || undefined);
  if (token.startsWith(API_KEY_PREFIX)) return apiKeys.authenticate(token);
  const principal = bearer && token ? await bearer.verify(token) : null;
  if (!principal) {
    ctx.state.bearerRejected = true;
    throw new UnauthorizedError('invalid, expired or revoked access token');
  }
  return principal;
}

/** The token of an `Authorization: Bearer ...` header, '' for an empty one, undefined without one. */
export function bearerToken(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  const m = /^bearer(?:\s+(.*))?$/i.exec(header.trim());
  return m ? (m[1] ?? '').trim() : undefined;
}

export function principalOf(ctx: Context): Principal {
  return ctx.state.principal as Principal;
}
