import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { DomainError, randomToken, RateLimitedError, tokensEqual, type SessionService } from '@blockyard/core';
import { bodyParser } from '@koa/bodyparser';
import { safeNextPath, SESSION_COOKIE, sessionAuth, sessionOf } from '../middleware/session-auth.js';
import { sendPage } from '../pages/html-page.js';
import { accountPageHtml, loginPageHtml } from '../pages/login.page.js';

/** The pre-login CSRF token (double submit: this cookie and the form field must match). */
export const LOGIN_CSRF_COOKIE = 'blockyard_login_csrf';
const LOGIN_CSRF_TTL_MS = 2 * 3_600_000;

const formBodyParser = bodyParser({ enableTypes: ['form'], formLimit: '16kb', encoding: 'utf-8' });

/** Parses urlencoded form bodies (small) for POSTs to these pages only; the API stays JSON-only. */
export function pageFormBodies(paths: ReadonlyArray<string | RegExp> = ['/login', '/logout']) {
  return async function pageFormBodiesMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method === 'POST' && paths.some((p) => (typeof p === 'string' ? p === ctx.path : p.test(ctx.path)))) await formBodyParser(ctx, next);
    else await next();
  };
}

/** Options of the login pages. */
export interface LoginRoutesOptions {
  /** A line under the title saying where signing in leads (e.g. "to continue to My App"), from the `next` path; null for none. */
  describeNext?: (next: string) => Promise<string | null>;
}

/** GET/POST /login, POST /logout and GET /account: our own pages, on a session cookie. */
export function loginRoutes(router: Router, sessions: SessionService, options: LoginRoutesOptions = {}): void {
  const contextOf = async (next: string) => (options.describeNext ? ((await options.describeNext(next).catch(() => null)) ?? undefined) : undefined);

  router.get('/login', async (ctx) => {
    const next = safeNextPath(ctx.query.next);
    renderLogin(ctx, 200, { next, context: await contextOf(next) });
  });

  router.post('/login', async (ctx) => {
    const form = formOf(ctx);
    const next = safeNextPath(form.next);
    if (!tokensEqual(form.csrf_token, ctx.cookies.get(LOGIN_CSRF_COOKIE))) {
      renderLogin(ctx, 403, { next, error: 'Your form expired or was not sent from this site. Please try again.' });
      return;
    }
    try {
      const { sessionId, session } = await sessions.login({ email: form.email ?? '', password: form.password ?? '', ip: ctx.ip });
      // Rotation: whatever session this browser had before ends here.
      await sessions.logout(ctx.cookies.get(SESSION_COOKIE));
      ctx.cookies.set(SESSION_COOKIE, sessionId, { ...cookieOptions(ctx), expires: session.expiresAt, maxAge: session.expiresAt.getTime() - Date.now() });
      ctx.cookies.set(LOGIN_CSRF_COOKIE, null, cookieOptions(ctx));
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(next);
    } catch (e) {
      if (e instanceof RateLimitedError || DomainError.is(e, 'rate_limited')) {
        if ((e as RateLimitedError).retryAfterSeconds) ctx.set('Retry-After', String((e as RateLimitedError).retryAfterSeconds));
        renderLogin(ctx, 429, { next, email: form.email, error: 'Too many failed sign-ins. Please wait a while and try again.', context: await contextOf(next) });
        return;
      }
      if (DomainError.is(e, 'unauthorized')) {
        renderLogin(ctx, 401, { next, email: form.email, error: 'Wrong email or password.', context: await contextOf(next) });
        return;
      }
      throw e;
    }
  });

  router.post('/logout', sessionAuth(sessions), async (ctx) => {
    const { session } = sessionOf(ctx);
    if (!tokensEqual(formOf(ctx).csrf_token, session.csrfToken)) {
      sendPage(ctx, 403, 'Forbidden', '<h1>Forbidden</h1><p>Your form expired or was not sent from this site.</p><p><a href="/account">Back</a></p>');
      return;
    }
    await sessions.logout(ctx.cookies.get(SESSION_COOKIE));
    ctx.cookies.set(SESSION_COOKIE, null, cookieOptions(ctx));
    ctx.redirect('/login');
  });

  router.get('/account', sessionAuth(sessions), async (ctx) => {
    const { session, user } = sessionOf(ctx);
    sendPage(ctx, 200, 'Account', accountPageHtml({ name: user.name, email: user.email, csrfToken: session.csrfToken }));
  });
}

/** httpOnly, SameSite=Lax, whole site; Secure when the request came over https. */
function cookieOptions(ctx: Context) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, path: '/', overwrite: true };
}

function renderLogin(ctx: Context, status: number, page: { next: string; email?: string; error?: string; context?: string }): void {
  // A fresh token per rendered form, bound to this browser by its cookie.
  const csrfToken = randomToken();
  ctx.cookies.set(LOGIN_CSRF_COOKIE, csrfToken, { ...cookieOptions(ctx), maxAge: LOGIN_CSRF_TTL_MS });
  sendPage(ctx, status, 'Sign in', loginPageHtml({ csrfToken, ...page }));
}

function formOf(ctx: Context): Record<string, string | undefined> {
  const body = (ctx.request as { body?: unknown }).body;
  const out: Record<string, string | undefined> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}
