import type Router from '@koa/router';
import type { Context } from 'koa';
import { DomainError, NotFoundError, requireScope, type ProviderOAuthService } from '@blockyard/core';
import type { IntegrationLogin } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';
import { escapeHtml, sendPage } from '../pages/html-page.js';
import { refuseApp, toCredentialBody } from './credentials.routes.js';
import { returnToConnect } from './connect.routes.js';

/**
 * Provider OAuth2: `login` (API key, MANAGE_INTEGRATIONS) answers the provider's authorization
 * URL; `callback` (no API key: the single-use state names the user) stores the credential and
 * answers its metadata as JSON, or a small page when the browser asks for HTML.
 */
export function integrationsRoutes(open: Router, api: Router, deps: HttpDeps): void {
  const { validators } = deps;
  const oauth = (): ProviderOAuthService => {
    if (!deps.oauth) throw new NotFoundError('provider OAuth is not configured on this server');
    return deps.oauth;
  };

  api.get('/api/v1/integrations/:provider/login', async (ctx) => {
    const principal = principalOf(ctx);
    refuseApp(principal);
    requireScope(principal, 'MANAGE_INTEGRATIONS');
    const scopes = typeof ctx.query.scopes === 'string' && ctx.query.scopes ? ctx.query.scopes.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const login = await oauth().startLogin(principal.userId, ctx.params.provider!, scopes);
    const body: IntegrationLogin = { login_url: login.loginUrl, state_expires_at: login.stateExpiresAt.toISOString() };
    ctx.set('Cache-Control', 'no-store');
    send(ctx, validators, 200, 'integration-login.schema.json', body);
  });

  open.get('/api/v1/integrations/:provider/callback', async (ctx) => {
    const provider = ctx.params.provider!;
    const q = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : undefined);
    const wantsHtml = ctx.accepts('json', 'html') === 'html';
    ctx.set('Cache-Control', 'no-store');
    try {
      const created = await oauth().completeLogin(provider, { code: q('code'), state: q('state'), error: q('error'), error_description: q('error_description') });
      if (returnToConnect(ctx, q('state'), { credentialId: created.id })) return; // started on a connect page: back there
      if (wantsHtml) return page(ctx, 201, `${provider} connected`, `Credential ${created.title} (${created.id}) is ready to use. You can close this window.`);
      send(ctx, validators, 201, 'credential-body.schema.json', toCredentialBody(created));
    } catch (e) {
      if (!DomainError.is(e)) throw e;
      if (returnToConnect(ctx, q('state'), { error: e.message })) return;
      if (!wantsHtml) {
        // The provider failed us (token endpoint): a gateway error, not ours.
        if (e.kind !== 'unexpected') throw e;
        deps.logger.warn('provider login failed', { provider, error: e.message });
        ctx.status = 502;
        ctx.body = { detail: e.message };
        return;
      }
      const status = { not_found: 404, invalid_input: 400, forbidden: 403, unauthorized: 401, conflict: 409, rate_limited: 429, unexpected: 502 }[e.kind];
      page(ctx, status, `Could not connect ${provider}`, e.message);
    }
  });
}

function page(ctx: Context, status: number, title: string, message: string): void {
  sendPage(ctx, status, title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}
