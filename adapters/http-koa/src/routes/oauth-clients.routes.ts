import Router from '@koa/router';
import type { OAuthClient, OAuthClientService } from '@blockyard/core';
import { NotFoundError } from '@blockyard/core';
import type { OAuthClientBody, OAuthClientCreateRequest, OAuthClientRotateRequest, OAuthClientSecrets, OAuthClientUpdateRequest } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { ownerAuth } from '../middleware/owner-auth.js';
import { readBody, send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * Client management, as in the external API guide: POST/GET /oauth/clients/, GET/PATCH/DELETE
 * /oauth/clients/:client_id, POST /oauth/clients/:client_id/rotate-secret, for the signed-in
 * user (session cookie or API key). Secrets are in the answers of POST and rotate-secret only.
 * Another user's client answers 404.
 */
export function oauthClientsRoutes(deps: HttpDeps): Router {
  const { validators } = deps;
  const router = new Router();
  const clients = (): OAuthClientService => {
    if (!deps.oauthClients) throw new NotFoundError('OAuth clients are not available on this server');
    return deps.oauthClients;
  };
  const auth = ownerAuth({ apiKeys: deps.apiKeys, sessions: deps.sessions, bearer: deps.bearer, what: 'managing OAuth clients' });

  router.post(['/oauth/clients/', '/oauth/clients'], auth, async (ctx) => {
    const body = readBody<OAuthClientCreateRequest>(ctx, validators, 'oauth-client-create-request.schema.json');
    const { client, clientSecret, webhookSecret } = await clients().register(principalOf(ctx).userId, {
      name: body.name,
      description: body.description,
      type: body.client_type,
      redirectUris: body.redirect_uris,
      webhookDomains: body.webhook_domains,
      scopes: body.scopes,
    });
    ctx.set('Location', `/oauth/clients/${client.id}`);
    ctx.set('Cache-Control', 'no-store');
    send(ctx, validators, 201, 'oauth-client-created.schema.json', { ...toOAuthClientBody(client), client_secret: clientSecret, webhook_secret: webhookSecret });
  });

  router.get(['/oauth/clients/', '/oauth/clients'], auth, async (ctx) => {
    send(ctx, validators, 200, 'oauth-client-list.schema.json', (await clients().list(principalOf(ctx).userId)).map(toOAuthClientBody));
  });

  router.get('/oauth/clients/:client_id', auth, async (ctx) => {
    send(ctx, validators, 200, 'oauth-client-body.schema.json', toOAuthClientBody(await clients().get(principalOf(ctx).userId, ctx.params.client_id!)));
  });

  router.patch('/oauth/clients/:client_id', auth, async (ctx) => {
    const body = readBody<OAuthClientUpdateRequest>(ctx, validators, 'oauth-client-update-request.schema.json');
    const client = await clients().update(principalOf(ctx).userId, ctx.params.client_id!, {
      name: body.name,
      description: body.description,
      type: body.client_type,
      redirectUris: body.redirect_uris,
      webhookDomains: body.webhook_domains,
      scopes: body.scopes,
      disabled: body.disabled,
    });
    send(ctx, validators, 200, 'oauth-client-body.schema.json', toOAuthClientBody(client));
  });

  router.delete('/oauth/clients/:client_id', auth, async (ctx) => {
    await clients().delete(principalOf(ctx).userId, ctx.params.client_id!);
    ctx.status = 204;
  });

  router.post('/oauth/clients/:client_id/rotate-secret', auth, async (ctx) => {
    const body = readBody<OAuthClientRotateRequest>(ctx, validators, 'oauth-client-rotate-request.schema.json');
    const rotated = await clients().rotateSecret(principalOf(ctx).userId, ctx.params.client_id!, body.target);
    const answer: OAuthClientSecrets = {
      client_id: rotated.client.id,
      ...(rotated.clientSecret ? { client_secret: rotated.clientSecret } : {}),
      ...(rotated.webhookSecret ? { webhook_secret: rotated.webhookSecret } : {}),
    };
    ctx.set('Cache-Control', 'no-store');
    send(ctx, validators, 200, 'oauth-client-secrets.schema.json', answer);
  });
  return router;
}

/** A client as its owner sees it: never a secret. */
export function toOAuthClientBody(c: OAuthClient): OAuthClientBody {
  return {
    client_id: c.id,
    name: c.name,
    description: c.description,
    client_type: c.type,
    redirect_uris: [...c.redirectUris],
    webhook_domains: [...c.webhookDomains],
    scopes: c.scopes ? [...c.scopes] : null,
    disabled: c.disabledAt !== null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}
