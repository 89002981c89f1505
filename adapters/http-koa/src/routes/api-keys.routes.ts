import Router from '@koa/router';
import type { ApiKey } from '@blockyard/core';
import type { ApiKeyBody, ApiKeyCreateRequest } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { readBody, send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * The caller's API keys. Any valid key may list and revoke its user's keys; creating one needs
 * no scope of its own, but the new key may hold only scopes the calling key holds (403 naming
 * the extra ones).
 */
export function apiKeysRoutes(router: Router, deps: HttpDeps): void {
  const { validators, apiKeys } = deps;

  router.get('/api/v1/api-keys', async (ctx) => {
    const principal = principalOf(ctx);
    const now = new Date();
    send(ctx, validators, 200, 'api-key-list.schema.json', (await apiKeys.listApiKeys(principal.userId)).map((k) => toApiKeyBody(k, now)));
  });

  router.post('/api/v1/api-keys', async (ctx) => {
    const principal = principalOf(ctx);
    const body = readBody<ApiKeyCreateRequest>(ctx, validators, 'api-key-create-request.schema.json');
    const { key, secret } = await apiKeys.createApiKey({
      userId: principal.userId,
      name: body.name,
      scopes: body.scopes,
      expiresAt: body.expires_at ? new Date(body.expires_at) : null,
      grantor: principal,
    });
    ctx.set('Location', `/api/v1/api-keys/${key.id}`);
    ctx.set('Cache-Control', 'no-store');
    send(ctx, validators, 201, 'api-key-created.schema.json', { ...toApiKeyBody(key, key.createdAt), secret });
  });

  router.delete('/api/v1/api-keys/:id', async (ctx) => {
    const principal = principalOf(ctx);
    await apiKeys.revokeApiKey(principal.userId, ctx.params.id!);
    ctx.status = 204;
  });
}

function toApiKeyBody(k: ApiKey, now: Date): ApiKeyBody {
  return {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    scopes: [...k.scopes],
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    expires_at: k.expiresAt?.toISOString() ?? null,
    status: k.revokedAt ? 'revoked' : k.expiresAt && k.expiresAt.getTime() <= now.getTime() ? 'expired' : 'active',
  };
}
