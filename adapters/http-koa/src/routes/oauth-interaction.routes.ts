import type Router from '@koa/router';
import type { Context } from 'koa';
import { DomainError, tokensEqual, type SessionService } from '@blockyard/core';
import { sessionAuth, sessionOf } from '../middleware/session-auth.js';
import { consentPageHtml, expiredAuthorizationHtml } from '../pages/consent.page.js';
import { sendPage } from '../pages/html-page.js';
import type { HttpAuthorizationServer } from '../http-deps.js';

/** Where the authorization server sends the browser to log in and consent. */
export const OAUTH_INTERACTION_PATH = /^\/oauth\/interaction\/([A-Za-z0-9_-]{1,100})$/;

/** Where the consent form posts (its urlencoded body is parsed by pageFormBodies). */
export const OAUTH_CONSENT_PATH = /^\/oauth\/interaction\/[A-Za-z0-9_-]{1,100}\/confirm$/;

/**
 * The login and consent step of an authorization request: GET shows the consent page to the
 * signed-in user (sending others to /login first, which comes back here), POST .../confirm
 * (CSRF-checked against the session) approves or denies and sends the browser on.
 */
export function oauthInteractionRoutes(router: Router, sessions: SessionService, server: HttpAuthorizationServer): void {
  router.get('/oauth/interaction/:uid', sessionAuth(sessions), async (ctx) => {
    const { session, user } = sessionOf(ctx);
    const pending = await pendingOrPage(ctx, server, ctx.params.uid!);
    if (!pending) return;
    sendPage(ctx, 200, `Allow ${pending.clientName}`, consentPageHtml({ pending, userName: user.name, userEmail: user.email, csrfToken: session.csrfToken }));
    // The answer is a redirect chain that ends at the app: let the form go there.
    ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${originOf(pending.redirectUri)}; frame-ancestors 'none'; base-uri 'none'`);
  });

  router.post('/oauth/interaction/:uid/confirm', sessionAuth(sessions), async (ctx) => {
    const { session, user } = sessionOf(ctx);
    const form = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    if (!tokensEqual(typeof form.csrf_token === 'string' ? form.csrf_token : undefined, session.csrfToken)) {
      sendPage(ctx, 403, 'Forbidden', '<h1>Forbidden</h1><p>Your form expired or was not sent from this site. Go back to the app and start again.</p>');
      return;
    }
    const decision = form.decision;
    if (decision !== 'allow' && decision !== 'deny') {
      sendPage(ctx, 400, 'Bad request', '<h1>Bad request</h1><p>Choose Allow or Deny.</p>');
      return;
    }
    const uid = ctx.params.uid!;
    if (!(await pendingOrPage(ctx, server, uid))) return;
    const location = await server.finishAuthorization(uid, ctx.req, ctx.res, { userId: user.id, approved: decision === 'allow' });
    ctx.set('Cache-Control', 'no-store');
    ctx.status = 303;
    ctx.redirect(location);
  });
}

async function pendingOrPage(ctx: Context, server: HttpAuthorizationServer, uid: string) {
  try {
    return await server.pendingAuthorization(uid, ctx.req, ctx.res);
  } catch (e) {
    if (!DomainError.is(e, 'not_found')) throw e;
    sendPage(ctx, 404, 'Request expired', expiredAuthorizationHtml(e.message));
    return null;
  }
}

function originOf(uri: string): string {
  try {
    const origin = new URL(uri).origin;
    return /^https?:\/\/[^\s;,']+$/.test(origin) ? origin : '';
  } catch {
    return '';
  }
}
