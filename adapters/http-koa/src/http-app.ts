import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import { accessLog } from './middleware/access-log.js';
import { bearerApiCors } from './middleware/cors.js';
import { apiKeyAuth } from './middleware/api-key-auth.js';
import { rateLimit, rateLimited } from './middleware/rate-limit.js';
import { errorMapper } from './middleware/error-mapper.js';
import { requestId } from './middleware/request-id.js';
import { blocksRoutes } from './routes/blocks.routes.js';
import { executionsRoutes } from './routes/executions.routes.js';
import { credentialsRoutes } from './routes/credentials.routes.js';
import { integrationsRoutes } from './routes/integrations.routes.js';
import { apiKeysRoutes } from './routes/api-keys.routes.js';
import { agentsRoutes } from './routes/agents.routes.js';
import { webhookIngress, webhooksRoutes } from './routes/webhooks.routes.js';
import { loginRoutes, pageFormBodies } from './routes/login.routes.js';
import { oauthClientsRoutes } from './routes/oauth-clients.routes.js';
import { clientWebhookDeliveriesRoutes } from './routes/client-webhook-deliveries.routes.js';
import { OAUTH_CONSENT_PATH, OAUTH_INTERACTION_PATH, oauthInteractionRoutes } from './routes/oauth-interaction.routes.js';
import { CONNECT_PATH, connectRoutes } from './routes/connect.routes.js';
import { grantsRoutes } from './routes/grants.routes.js';
import { externalApiRoutes } from './routes/external-api.routes.js';
import { openApiRoutes } from './routes/openapi.routes.js';
import type { HttpDeps, HttpOptions } from './http-deps.js';

/** The Koa application serving /healthz and /api/v1. Listening is the caller's business. */
export function createHttpApp(deps: HttpDeps, options: HttpOptions = {}): Koa {
  const resolved: Required<HttpOptions> = { bodyLimitBytes: options.bodyLimitBytes ?? 1024 * 1024, maxWaitSeconds: options.maxWaitSeconds ?? 30, trustProxy: options.trustProxy ?? false, webhookBodyLimitBytes: options.webhookBodyLimitBytes ?? 1024 * 1024 };
  // Only behind a configured proxy do X-Forwarded-Proto/-For count (ctx.secure, ctx.ip).
  const app = new Koa({ proxy: resolved.trustProxy });
  app.silent = true; // errors are logged by errorMapper, never printed by Koa

  app.use(requestId);
  app.use(notFoundAsJson);
  app.use(accessLog(deps.logger));
  // CORS for browser apps on the bearer-token APIs only; outside the error mapper, so errors are readable too.
  app.use(bearerApiCors({ allowsOrigin: deps.oauthClients ? (clientId, origin) => deps.oauthClients!.allowsOrigin(clientId, origin) : null, logger: deps.logger }));
  app.use(errorMapper(deps.logger));
  // Rate limits per client and endpoint class: before the authorization server, which answers on its own.
  if (deps.rateLimits) app.use(rateLimit(deps.rateLimits, deps.logger));
  // The OAuth protocol endpoints are oidc-provider's: it reads its own bodies, so it goes first.
  if (deps.authorizationServer) app.use(deps.authorizationServer.middleware());
  // Inbound webhooks read their raw body themselves (signatures are over the exact bytes).
  app.use(webhookIngress(deps, { bodyLimitBytes: resolved.webhookBodyLimitBytes }));
  app.use(pageFormBodies(['/login', '/logout', OAUTH_CONSENT_PATH, CONNECT_PATH]));
  app.use(bodyParser({ enableTypes: ['json'], jsonLimit: resolved.bodyLimitBytes, encoding: 'utf-8' }));

  const open = new Router();
  open.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  openApiRoutes(open, deps);

  // Our own browser pages (login now; consent and connect later) on a session cookie.
  if (deps.sessions) {
    const server = deps.authorizationServer;
    // An authorization request's login page names the app that asks.
    const describeNext = server?.clientNameOfInteraction
      ? async (next: string) => {
          const uid = OAUTH_INTERACTION_PATH.exec(next)?.[1];
          const name = uid ? await server.clientNameOfInteraction!(uid) : null;
          return name ? `to continue to ${name}` : null;
        }
      : undefined;
    loginRoutes(open, deps.sessions, { describeNext });
    if (server) oauthInteractionRoutes(open, deps.sessions, server);
    if (deps.grants) connectRoutes(open, { sessions: deps.sessions, grants: deps.grants, credentials: deps.credentials, oauth: deps.oauth ?? null });
  }

  const api = new Router();
  api.use('/api/v1', apiKeyAuth(deps.apiKeys, deps.bearer), rateLimited());
  blocksRoutes(api, deps, resolved);
  executionsRoutes(api, deps, resolved);
  credentialsRoutes(api, deps);
  integrationsRoutes(open, api, deps);
  apiKeysRoutes(api, deps);
  agentsRoutes(api, deps);
  webhooksRoutes(api, deps);
  grantsRoutes(api, deps);

  for (const router of [open, api, oauthClientsRoutes(deps), clientWebhookDeliveriesRoutes(deps), externalApiRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: false }));
  }
  return app;
}

/** Unknown routes and wrong methods answer JSON like every other error. */
async function notFoundAsJson(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  await next();
  if (ctx.respond === false) return; // answered by a mounted app (the authorization server)
  if (ctx.status === 405 && !ctx.body) ctx.body = { detail: `method ${ctx.method} not allowed on ${ctx.path}` };
  else if (ctx.status === 404 && (ctx.body === undefined || ctx.body === null)) {
    ctx.status = 404;
    ctx.body = { detail: `not found: ${ctx.method} ${ctx.path}` };
  }
}
