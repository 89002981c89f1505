import type Router from '@koa/router';
import { NotFoundError, PermissionError, requireScope, type Grant, type GrantService, type Principal } from '@blockyard/core';
import type { GrantBody } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * The user's credential grants: `GET /api/v1/grants` (READ_INTEGRATIONS) lists them, live and
 * revoked, with the app each went to; `DELETE /api/v1/grants/:id` (MANAGE_INTEGRATIONS)
 * revokes one (204; again: a no-op) and sends `grant.revoked`. For the user's own API key: an
 * app's access token is refused (apps see their own grants at /api/external/v1/grants).
 */
export function grantsRoutes(api: Router, deps: HttpDeps): void {
  const { validators } = deps;
  const grants = (): GrantService => {
    if (!deps.grants) throw new NotFoundError('credential grants are not available on this server');
    return deps.grants;
  };

  api.get('/api/v1/grants', async (ctx) => {
    const principal = ownerOf(principalOf(ctx));
    requireScope(principal, 'READ_INTEGRATIONS');
    const listed = await grants().listForUser(principal.userId);
    send(ctx, validators, 200, 'grant-list.schema.json', listed.map(({ grant, client }) => toGrantBody(grant, client?.name ?? null)));
  });

  api.delete('/api/v1/grants/:id', async (ctx) => {
    const principal = ownerOf(principalOf(ctx));
    requireScope(principal, 'MANAGE_INTEGRATIONS');
    await grants().revokeForUser(principal.userId, ctx.params.id!);
    ctx.status = 204;
  });
}

function ownerOf(principal: Principal): Principal {
  if (principal.clientId) throw new PermissionError("a user's grants are managed with their API key, not an app's access token (apps use /api/external/v1/grants)");
  return principal;
}

/** A grant as the API shows it; `clientName` (the user's listing) when given. */
export function toGrantBody(g: Grant, clientName?: string | null): GrantBody {
  return {
    grant_id: g.id,
    client_id: g.clientId,
    ...(clientName !== undefined ? { client_name: clientName } : {}),
    credential_id: g.credentialId,
    provider: g.provider,
    scopes: [...g.scopes],
    status: g.revokedAt ? 'revoked' : 'active',
    created_at: g.createdAt.toISOString(),
    last_used_at: g.lastUsedAt?.toISOString() ?? null,
    revoked_at: g.revokedAt?.toISOString() ?? null,
  };
}
