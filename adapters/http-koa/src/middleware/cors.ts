import type { Context, Next } from 'koa';
import { silentLogger, type Logger, type Principal } from '@blockyard/core';

/** The bearer-token APIs browser apps call from their own origin: the external API, and the API guide's block list. */
const BEARER_API_PATH = /^\/(?:api\/external\/v1|external-api\/v1)(?:\/|$)/;

export const CORS_ALLOW_METHODS = 'GET, POST, DELETE';
export const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Idempotency-Key';
/** What a browser app's script may read of an answer beyond the CORS-safelisted headers. */
export const CORS_EXPOSE_HEADERS = 'X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Location, Idempotent-Replayed, X-Request-Id';
/** How long a browser may reuse a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 600;

export interface BearerApiCorsOptions {
  /** Whether a browser app at `origin` may read answers made for `clientId`'s tokens (the origin of one of its redirect URIs); null: never. */
  allowsOrigin: ((clientId: string, origin: string) => Promise<boolean>) | null;
  logger?: Logger;
}

/**
 * CORS for the bearer-token APIs (/api/external/v1, /external-api/v1), so that a browser app
 * (a public client) can call them from its own origin:
 *
 * - a preflight (OPTIONS with Origin and Access-Control-Request-Method) answers 204 at once,
 *   allowing the Origin, GET/POST/DELETE and the Authorization, Content-Type and Idempotency-Key
 *   headers (a preflight carries no token, so it cannot be told apart by client);
 * - an actual answer carries Access-Control-Allow-Origin only when its access token's client
 *   has a redirect URI on that origin, and exposes the rate-limit headers; an API key, a
 *   refused token or another origin gets no CORS header, so the browser keeps the answer from
 *   the page. Answers vary by Origin.
 *
 * Never Access-Control-Allow-Credentials: these APIs take bearer tokens, never cookies. Other
 * paths (cookie-session pages and /api/v1, the authorization server, which answers CORS for
 * /oauth/token and /oauth/revoke itself) are left alone. Mount it outside the error mapper, so
 * that error answers (403, 429) are readable by the app too.
 */
export function bearerApiCors(options: BearerApiCorsOptions) {
  const logger = options.logger ?? silentLogger;
  return async function bearerApiCorsMiddleware(ctx: Context, next: Next): Promise<void> {
    if (!BEARER_API_PATH.test(ctx.path)) return next();
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (ctx.method === 'OPTIONS' && origin && ctx.get('access-control-request-method')) {
      ctx.status = 204;
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Methods', CORS_ALLOW_METHODS);
      ctx.set('Access-Control-Allow-Headers', CORS_ALLOW_HEADERS);
      ctx.set('Access-Control-Max-Age', String(CORS_MAX_AGE_SECONDS));
      return;
    }
    await next();
    const clientId = (ctx.state.principal as Principal | undefined)?.clientId;
    if (!origin || !clientId || !options.allowsOrigin) return;
    let allowed = false;
    try {
      allowed = await options.allowsOrigin(clientId, origin);
    } catch (e) {
      logger.warn('could not check the CORS origin of an app', { requestId: ctx.state.requestId, clientId, error: e instanceof Error ? e.message : String(e) });
    }
    if (!allowed) return;
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Expose-Headers', CORS_EXPOSE_HEADERS);
  };
}
