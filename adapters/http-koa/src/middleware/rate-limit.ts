import type { Context, Next } from 'koa';
import { RateLimitedError, silentLogger, type EndpointClass, type Logger, type Principal, type RateLimitDecision, type RateLimiter, type RateLimitPolicy } from '@blockyard/core';
import { SESSION_COOKIE } from './session-auth.js';

/** What the HTTP adapter limits with: the store and each endpoint class's rules. */
export interface HttpRateLimits {
  limiter: RateLimiter;
  policy: RateLimitPolicy;
  /** The time in epoch ms. Default Date.now. */
  now?: () => number;
}
/** Where a composition binds its HttpRateLimits for httpKoaModule; no limits without it. */
export const HttpRateLimits = Symbol.for('blockyard/HttpRateLimits');

/**
 * The endpoint class a request falls in by its method and path, or null for what is not
 * limited (health, pages, inbound provider webhooks, discovery documents):
 * `/oauth/...` is oauth; under /api/v1, /api/external/v1 and /external-api/v1, a POST to
 * `.../execute` is execute, GET, HEAD and OPTIONS are read, anything else is write.
 */
export function endpointClassOf(method: string, path: string): EndpointClass | null {
  if (path.startsWith('/oauth/')) return 'oauth';
  if (!/^\/(?:api\/v1|api\/external\/v1|external-api\/v1)(?:\/|$)/.test(path)) return null;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return 'read';
  if (method === 'POST' && /\/execute\/?$/.test(path)) return 'execute';
  return 'write';
}

/** Whose budget an authenticated request uses: its OAuth client, else its API key (or session), else its user. */
export function rateLimitIdentity(principal: Principal): string {
  if (principal.clientId) return `client:${principal.clientId}`;
  return principal.via || `user:${principal.userId}`;
}

/** The decision for this request, once made: the first one made for a request stands. */
interface RateLimitGate {
  /** The class the request's path falls in (null: not limited unless a route declares one). */
  readonly pathClass: EndpointClass | null;
  readonly decided: boolean;
  /** Consumes one request of `identity`'s `cls` budget and sets the X-RateLimit headers; null when not limited. */
  decide(cls: EndpointClass, identity: string): Promise<RateLimitDecision | null>;
}

/**
 * Rate limits per client and endpoint class (see endpointClassOf), mounted on the app before
 * the routes and the authorization server. Every answer in a limited class carries
 * `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (unix seconds) of the
 * tightest rule; over the limit it is 429 `{ detail }` (OAuth protocol endpoints: `{ error,
 * error_description }`) with `Retry-After` in seconds.
 *
 * Whose budget: a request that carries credentials is counted by `rateLimited()`, placed
 * after authentication, against its client, API key or user; one that never gets there
 * (invalid credentials, unknown path) is counted afterwards against its IP. A request without
 * credentials is counted against its IP at once. The oauth class is counted at once against
 * the IP alone: a client_id the request names (query, body or HTTP Basic) is unproven there, and
 * must neither let anyone spend an app's budget nor, joined to the IP, give each made-up value a
 * fresh budget.
 *
 * When the limiter fails (Redis unreachable), the request goes through unlimited and a warning
 * is logged at most once a minute.
 */
export function rateLimit(limits: HttpRateLimits, logger: Logger = silentLogger) {
  const now = limits.now ?? Date.now;
  let warnedAt = -Infinity;
  const consume = async (cls: EndpointClass, identity: string): Promise<RateLimitDecision | null> => {
    const rules = limits.policy[cls];
    if (!rules.length) return null;
    try {
      return await limits.limiter.consume(`${cls} ${identity}`, rules, now());
    } catch (e) {
      if (Date.now() - warnedAt >= 60_000) {
        warnedAt = Date.now();
        logger.warn('rate limiter unavailable: requests go through unlimited', { error: e instanceof Error ? e.message : String(e) });
      }
      return null;
    }
  };

  return async function rateLimitMiddleware(ctx: Context, next: Next): Promise<void> {
    const pathClass = endpointClassOf(ctx.method, ctx.path);
    let decided = false;
    const gate: RateLimitGate = {
      pathClass,
      get decided() {
        return decided;
      },
      async decide(cls, identity) {
        if (decided) return null;
        decided = true;
        const decision = await consume(cls, identity);
        if (decision) setRateLimitHeaders(ctx, decision);
        return decision;
      },
    };
    ctx.state.rateLimit = gate;
    if (!pathClass) return next();

    if (pathClass === 'oauth' || !carriesCredentials(ctx)) {
      const decision = await gate.decide(pathClass, anonymousIdentity(ctx));
      if (decision && !decision.allowed) return refuse(ctx, pathClass, decision);
      return next();
    }
    try {
      await next();
    } catch (e) {
      if (!decided) {
        const decision = await gate.decide(pathClass, anonymousIdentity(ctx));
        if (decision && !decision.allowed) return refuse(ctx, pathClass, decision);
      }
      throw e;
    }
    if (!decided) {
      const decision = await gate.decide(pathClass, anonymousIdentity(ctx));
      if (decision && !decision.allowed) refuse(ctx, pathClass, decision);
    }
  };
}

/**
 * Counts the request against the authenticated principal's budget (ctx.state.principal), for
 * `cls` or else the class of its path; 429 when over. Goes after the authentication of a
 * router or route: `router.use('/api/external/v1', bearerAuth, rateLimited())`, or
 * `router.post('/x', auth, rateLimited('execute'), handler)` to declare a class. Does nothing
 * without `rateLimit` on the app (limits off) or once the request was counted.
 */
export function rateLimited(cls?: EndpointClass) {
  return async function rateLimitedMiddleware(ctx: Context, next: Next): Promise<void> {
    const gate = ctx.state.rateLimit as RateLimitGate | undefined;
    const endpointClass = cls ?? gate?.pathClass;
    if (gate && endpointClass && !gate.decided) {
      const principal = ctx.state.principal as Principal | undefined;
      const decision = await gate.decide(endpointClass, principal ? rateLimitIdentity(principal) : anonymousIdentity(ctx));
      if (decision && !decision.allowed) throw new RateLimitedError(refusalMessage(endpointClass, decision), retryAfterSeconds(decision));
    }
    await next();
  };
}

function setRateLimitHeaders(ctx: Context, decision: RateLimitDecision): void {
  ctx.set('X-RateLimit-Limit', String(decision.limit));
  ctx.set('X-RateLimit-Remaining', String(decision.remaining));
  ctx.set('X-RateLimit-Reset', String(Math.ceil(decision.resetAt / 1000)));
  if (!decision.allowed) ctx.set('Retry-After', String(retryAfterSeconds(decision)));
}

/** Answers 429 here (the gate runs outside the routes and the authorization server). */
function refuse(ctx: Context, cls: EndpointClass, decision: RateLimitDecision): void {
  const message = refusalMessage(cls, decision);
  ctx.status = 429;
  ctx.body = isOAuthProtocolPath(ctx.path) ? { error: 'too_many_requests', error_description: message } : { detail: message };
}

/** The authorization server's own endpoints answer errors the OAuth way; client management and our pages do not. */
function isOAuthProtocolPath(path: string): boolean {
  return path.startsWith('/oauth/') && !path.startsWith('/oauth/clients') && !path.startsWith('/oauth/interaction/');
}

function retryAfterSeconds(decision: RateLimitDecision): number {
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

function refusalMessage(cls: EndpointClass, decision: RateLimitDecision): string {
  return `rate limit exceeded: ${decision.limit} ${cls} requests per ${describeWindow(decision.windowMs)}; retry in ${retryAfterSeconds(decision)} s`;
}

function describeWindow(ms: number): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) if (ms % size === 0) return ms === size ? name : `${ms / size} ${name}s`;
  return `${ms} ms`;
}

function carriesCredentials(ctx: Context): boolean {
  return Boolean(ctx.get('x-api-key') || ctx.get('authorization') || ctx.cookies.get(SESSION_COOKIE));
}

/** The IP: what an unauthenticated request (and any oauth-class request) is counted against. */
function anonymousIdentity(ctx: Context): string {
  return `ip:${ctx.ip}`;
}
