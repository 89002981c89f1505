import type { Context, Next } from 'koa';
import type { ApiKeyService, Principal } from '@blockyard/core';

/** Authenticates the X-API-Key header and puts the caller on ctx.state.principal. */
export function apiKeyAuth(apiKeys: ApiKeyService) {
  return async function apiKeyAuthMiddleware(ctx: Context, next: Next): Promise<void> {
    ctx.state.principal = await apiKeys.authenticate(ctx.get('x-api-key') || undefined);
    await next();
  };
}

export function principalOf(ctx: Context): Principal {
  return ctx.state.principal as Principal;
}
