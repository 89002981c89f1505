import type { Context, Next } from 'koa';
import { type Session, type SessionService, type User } from '@blockyard/core';

/** The cookie holding the session id (the id itself; storage has only its SHA-256). */
export const SESSION_COOKIE = 'blockyard_session';

export interface SessionState {
  session: Session;
  user: User;
}

/**
 * Resolves the session cookie and puts `{ session, user }` on ctx.state.browser. Without a live
 * session, a GET is redirected to /login?next=<this path>; a form post (which cannot be replayed
 * after login) is sent to /login with 303.
 */
export function sessionAuth(sessions: SessionService) {
  return async function sessionAuthMiddleware(ctx: Context, next: Next): Promise<void> {
    const resolved = await sessions.resolve(ctx.cookies.get(SESSION_COOKIE));
    if (!resolved) {
      if (ctx.method === 'GET' || ctx.method === 'HEAD') {
        ctx.redirect(`/login?next=${encodeURIComponent(ctx.originalUrl)}`);
      } else {
        ctx.status = 303;
        ctx.redirect('/login');
      }
      return;
    }
    ctx.state.browser = resolved satisfies SessionState;
    await next();
  };
}

/** The session sessionAuth put on the context. */
export function sessionOf(ctx: Context): SessionState {
  return ctx.state.browser as SessionState;
}

/**
 * A same-site path to go to after login: only `/...` paths, never `//host` or a scheme, nor a
 * backslash anywhere (browsers read `\` as `/`). The normalised result is checked too: dot
 * segments (`/.//evil.com`, `/a/..//evil.com`, `/%2e//evil.com`) must not leave a
 * protocol-relative `//host`.
 */
export function safeNextPath(next: unknown, fallback = '/account'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\') || next.length > 2000) return fallback;
  if (/[\u0000-\u001f\u007f]/.test(next)) return fallback;
  try {
    const base = 'http://same.invalid';
    const url = new URL(next, base);
    if (url.origin !== base) return fallback;
    const out = url.pathname + url.search + url.hash;
    if (!out.startsWith('/') || out.startsWith('//') || out.includes('\\')) return fallback;
    return out;
  } catch {
    return fallback;
  }
}
