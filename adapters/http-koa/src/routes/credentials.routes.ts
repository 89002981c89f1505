import Router from '@koa/router';
import { NotFoundError, PermissionError, requireScope, type CredentialView, type Principal } from '@blockyard/core';
import type { CredentialBody, CredentialCreateRequest, CredentialDeleted } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { readBody, send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

export function credentialsRoutes(router: Router, deps: HttpDeps): void {
  const { validators } = deps;
  const credentials = () => {
    if (!deps.credentials) throw new NotFoundError('credential storage is not configured on this server');
    return deps.credentials;
  };

  router.get('/api/v1/credentials', async (ctx) => {
    const principal = principalOf(ctx);
    refuseApp(principal);
    requireScope(principal, 'READ_INTEGRATIONS');
    send(ctx, validators, 200, 'credential-list.schema.json', (await credentials().listCredentials(principal.userId)).map(toCredentialBody));
  });

  router.post('/api/v1/credentials', async (ctx) => {
    const principal = principalOf(ctx);
    refuseApp(principal);
    requireScope(principal, 'MANAGE_INTEGRATIONS');
    const body = readBody<CredentialCreateRequest>(ctx, validators, 'credential-create-request.schema.json');
    const created = await credentials().createCredential(principal.userId, {
      provider: body.provider,
      kind: body.kind,
      title: body.title,
      scopes: body.scopes,
      expiresAt: body.expires_at ? new Date(body.expires_at) : null,
      secret: body.secret as Record<string, unknown>,
    });
    ctx.set('Location', `/api/v1/credentials/${created.id}`);
    send(ctx, validators, 201, 'credential-body.schema.json', toCredentialBody(created));
  });

  router.delete('/api/v1/credentials/:id', async (ctx) => {
    const principal = principalOf(ctx);
    refuseApp(principal);
    requireScope(principal, 'DELETE_INTEGRATIONS');
    const deleted = await credentials().deleteCredential(principal.userId, ctx.params.id!);
    const body: CredentialDeleted = { id: deleted.id, deleted: true, revoked: deleted.revoked, ...(deleted.detail !== undefined ? { detail: deleted.detail } : {}) };
    send(ctx, validators, 200, 'credential-deleted.schema.json', body);
  });
}

/**
 * The user's credentials are the user's own business: an app's access token is refused (403)
 * whatever its scopes. An app reaches the user's integrations only through grants the user
 * gives it on the connect page, and sees them at /api/external/v1/grants.
 */
export function refuseApp(principal: Principal): void {
  if (!principal.clientId) return;
  throw new PermissionError(
    "an app's access token cannot list, read, connect or change the user's credentials: an app reaches the user's integrations through grants (the connect flow, /connect/:provider, and /api/external/v1/grants)",
  );
}

/** A credential as the API shows it: metadata only. */
export function toCredentialBody(c: CredentialView): CredentialBody {
  return {
    id: c.id,
    provider: c.provider,
    kind: c.kind,
    title: c.title,
    scopes: c.scopes,
    expires_at: c.expiresAt?.toISOString() ?? null,
    status: c.status,
    system: c.system,
    created_at: c.createdAt?.toISOString() ?? null,
  };
}
