import { createHash } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import {
  CONNECT_RESULT_TYPE,
  ConnectError,
  DomainError,
  describeIntegrationScope,
  tokensEqual,
  type ConnectRequest,
  type ConnectResultMessage,
  type CredentialService,
  type GrantService,
  type ProviderOAuthService,
  type SessionService,
} from '@blockyard/core';
import { SESSION_COOKIE, type SessionState } from '../middleware/session-auth.js';
import { connectPageHtml, sendConnectResult } from '../pages/connect.page.js';
import { sendPage } from '../pages/html-page.js';

/** Where the connect forms post (their urlencoded bodies are parsed by pageFormBodies). */
export const CONNECT_PATH = /^\/connect\/[a-z][a-z0-9_-]*$/;

/** Remembers, for one provider login started on the connect page, where its callback returns to. */
const RETURN_COOKIE = 'blockyard_connect_return';
const RETURN_COOKIE_PATH = '/api/v1/integrations/';
const RETURN_TTL_MS = 10 * 60_000;

export interface ConnectRoutesDeps {
  sessions: SessionService;
  grants: GrantService;
  /** Creating a credential from a pasted API key; the API key form is left out without it. */
  credentials: CredentialService | null;
  /** Connecting a new account through the provider's OAuth login; left out without it. */
  oauth: ProviderOAuthService | null;
}

/**
 * The connect flow of the external API guide: `GET /connect/:provider?client_id&scopes&nonce
 * &redirect_origin` checks the request (an unknown client or an origin that is not one of the
 * client's redirect URIs' origins gets an error page that posts nothing), sends a browser
 * without a session to /login and back, refuses (access_denied) an app the user has not
 * authorized with integrations:connect, and shows the connect page; its forms `POST
 * /connect/:provider` (CSRF token of the session) allow with a chosen credential, deny, start
 * the provider's OAuth login (whose callback comes back here), or add an API key. The outcome
 * page posts `{ type: 'blockyard_connect_result', success, grant_id, credential_id, provider,
 * nonce }` (or `success: false, error, error_description`) to the opener at the verified origin.
 */
export function connectRoutes(router: Router, deps: ConnectRoutesDeps): void {
  router.get('/connect/:provider', async (ctx) => {
    const provider = ctx.params.provider!;
    const query = (name: string) => (typeof ctx.query[name] === 'string' ? (ctx.query[name] as string) : null);
    const request = await checked(ctx, deps, provider, { clientId: query('client_id'), scopes: query('scopes'), nonce: query('nonce'), redirectOrigin: query('redirect_origin') });
    if (!request) return;
    const signedIn = await deps.sessions.resolve(ctx.cookies.get(SESSION_COOKIE));
    if (!signedIn) {
      ctx.set('Cache-Control', 'no-store');
      ctx.redirect(`/login?next=${encodeURIComponent(connectPath(request))}`);
      return;
    }
    if (!(await authorized(ctx, deps, request, signedIn))) return;
    const connected = query('connected');
    const failed = query('connect_error');
    await renderConnectPage(ctx, deps, request, signedIn, {
      selected: connected,
      notice: connected ? `Your new ${request.provider.display_name} account is connected. Allow ${request.client.name} to use it?` : null,
      error: failed ? `Connecting a new ${request.provider.display_name} account failed: ${failed.slice(0, 300)}` : null,
    });
  });

  router.post('/connect/:provider', async (ctx) => {
    const provider = ctx.params.provider!;
    const form = formOf(ctx);
    const request = await checked(ctx, deps, provider, { clientId: form.client_id, scopes: form.scopes, nonce: form.nonce, redirectOrigin: form.redirect_origin });
    if (!request) return;
    const signedIn = await deps.sessions.resolve(ctx.cookies.get(SESSION_COOKIE));
    if (!signedIn) {
      // A form post cannot be replayed after login: back to the page, through the login form.
      ctx.status = 303;
      ctx.redirect(`/login?next=${encodeURIComponent(connectPath(request))}`);
      return;
    }
    if (!tokensEqual(form.csrf_token, signedIn.session.csrfToken)) {
      sendPage(ctx, 403, 'Forbidden', '<h1>Forbidden</h1><p>Your form expired or was not sent from this site. Go back to the app and start again.</p>');
      return;
    }
    if (!(await authorized(ctx, deps, request, signedIn))) return;
    const userId = signedIn.user.id;
    try {
      switch (form.decision) {
        case 'deny':
          return result(ctx, request, new ConnectError('access_denied', `${signedIn.user.name} declined to connect ${request.provider.display_name}`, request.redirectOrigin, request.nonce));
        case 'allow': {
          if (!form.credential_id) return renderConnectPage(ctx, deps, request, signedIn, { error: `Choose one of your ${request.provider.display_name} accounts, or connect a new one.` }, 400);
          return result(ctx, request, await deps.grants.grantCredential(userId, request, form.credential_id));
        }
        case 'connect_new': {
          if (!deps.oauth) return renderConnectPage(ctx, deps, request, signedIn, { error: 'Connecting accounts through the provider is not configured on this server.' }, 400);
          const login = await deps.oauth.startLogin(userId, request.provider.name, request.scopes);
          rememberReturn(ctx, login.loginUrl, connectPath(request));
          ctx.set('Cache-Control', 'no-store');
          ctx.status = 303;
          ctx.redirect(login.loginUrl);
          return;
        }
        case 'add_api_key': {
          if (!deps.credentials) return renderConnectPage(ctx, deps, request, signedIn, { error: 'Adding credentials is not available on this server.' }, 400);
          const created = await deps.credentials.createCredential(userId, {
            provider: request.provider.name,
            kind: 'api_key',
            title: (form.title ?? '').slice(0, 100),
            secret: { api_key: form.api_key ?? '' },
          });
          return result(ctx, request, await deps.grants.grantCredential(userId, request, created.id));
        }
        default:
          return renderConnectPage(ctx, deps, request, signedIn, { error: 'Choose Allow or Deny.' }, 400);
      }
    } catch (e) {
      if (e instanceof ConnectError) return result(ctx, request, e);
      // A refusal the user can do something about (a bad key, a provider that is not set up): the page again, saying why.
      if (DomainError.is(e) && e.kind !== 'unexpected') return renderConnectPage(ctx, deps, request, signedIn, { error: e.message }, 400);
      throw e;
    }
  });
}

/**
 * For the provider's OAuth callback: when this browser started the login (`state`) on the
 * connect page, sends it back there (303) with the new credential preselected, or the error
 * shown, and answers true; false when the login did not come from the connect page.
 */
export function returnToConnect(ctx: Context, state: string | undefined, outcome: { credentialId: string } | { error: string }): boolean {
  const cookie = ctx.cookies.get(RETURN_COOKIE);
  if (!cookie || !state) return false;
  ctx.cookies.set(RETURN_COOKIE, null, { ...cookieOptions(ctx), path: RETURN_COOKIE_PATH });
  const dot = cookie.indexOf('.');
  if (dot < 0 || !tokensEqual(cookie.slice(0, dot), sha256(state))) return false;
  let path: string;
  try {
    path = Buffer.from(cookie.slice(dot + 1), 'base64url').toString('utf8');
  } catch {
    return false;
  }
  if (!path.startsWith('/connect/') || path.startsWith('//')) return false;
  const url = new URL(path, 'http://same.invalid');
  if ('credentialId' in outcome) url.searchParams.set('connected', outcome.credentialId);
  else url.searchParams.set('connect_error', outcome.error.slice(0, 300));
  ctx.set('Cache-Control', 'no-store');
  ctx.status = 303;
  ctx.redirect(url.pathname + url.search);
  return true;
}

/** The checked request, or null once a failure page was sent (posting to the opener when the origin is verified). */
async function checked(ctx: Context, deps: ConnectRoutesDeps, provider: string, query: { clientId?: string | null; scopes?: string | null; nonce?: string | null; redirectOrigin?: string | null }): Promise<ConnectRequest | null> {
  try {
    return await deps.grants.checkConnect({ provider, ...query });
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    failure(ctx, provider, e);
    return null;
  }
}

/**
 * Whether the signed-in user authorized the request's app with integrations:connect; when not,
 * the access_denied failure was posted to the verified origin.
 */
async function authorized(ctx: Context, deps: ConnectRoutesDeps, request: ConnectRequest, signedIn: SessionState): Promise<boolean> {
  try {
    await deps.grants.checkConnectAuthorized(signedIn.user.id, request);
    return true;
  } catch (e) {
    if (!(e instanceof ConnectError)) throw e;
    result(ctx, request, e);
    return false;
  }
}

/** Sends the outcome page: a grant (success) or a failure. */
function result(ctx: Context, request: ConnectRequest, outcome: { id: string; credentialId: string } | ConnectError): void {
  if (outcome instanceof ConnectError) return failure(ctx, request.provider.name, outcome, request);
  const message: ConnectResultMessage = { type: CONNECT_RESULT_TYPE, success: true, grant_id: outcome.id, credential_id: outcome.credentialId, provider: request.provider.name, nonce: request.nonce };
  sendConnectResult(ctx, 200, {
    title: `${request.provider.display_name} connected`,
    text: `${request.client.name} can now use your ${request.provider.display_name} account as you allowed.`,
    message,
    origin: request.redirectOrigin,
  });
}

function failure(ctx: Context, provider: string, error: ConnectError, request?: ConnectRequest): void {
  const message: ConnectResultMessage = { type: CONNECT_RESULT_TYPE, success: false, error: error.error, error_description: error.message, provider, nonce: error.nonce ?? request?.nonce ?? null };
  const status = error.error === 'access_denied' ? 403 : error.error === 'server_error' ? 500 : 400;
  sendConnectResult(ctx, status, {
    title: error.error === 'access_denied' ? 'Not connected' : 'This connect request cannot go on',
    text: `${error.error}: ${error.message}`,
    message,
    origin: error.origin,
  });
}

async function renderConnectPage(
  ctx: Context,
  deps: ConnectRoutesDeps,
  request: ConnectRequest,
  signedIn: SessionState,
  extra: { selected?: string | null; notice?: string | null; error?: string | null },
  status = 200,
): Promise<void> {
  const { provider, client } = request;
  const choices = await deps.grants.connectChoices(signedIn.user.id, request);
  const oauthMethod = provider.auth.find((m) => m.type === 'oauth2');
  sendPage(
    ctx,
    status,
    `Connect ${provider.display_name}`,
    connectPageHtml({
      clientName: client.name,
      clientDescription: client.description,
      provider: { name: provider.name, displayName: provider.display_name },
      scopes: request.scopes.map((name) => ({ name, description: describeIntegrationScope(name, provider) })),
      choices: choices.map(({ credential, unusableBecause }) => ({ id: credential.id, title: credential.title, kind: credential.kind, createdAt: credential.createdAt, unusableBecause })),
      hidden: { client_id: client.id, scopes: request.scopes.join(','), nonce: request.nonce, redirect_origin: request.redirectOrigin },
      csrfToken: signedIn.session.csrfToken,
      userName: signedIn.user.name,
      userEmail: signedIn.user.email,
      canConnectOAuth: !!oauthMethod && !!deps.oauth,
      canAddApiKey: provider.auth.some((m) => m.type === 'api_key') && !!deps.credentials,
      ...extra,
    }),
  );
  // "Connect a new account" ends in a redirect to the provider's login: let the form go there.
  const loginOrigin = oauthMethod && 'authorize_url' in oauthMethod ? originOf(oauthMethod.authorize_url) : '';
  ctx.set('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${loginOrigin ? ` ${loginOrigin}` : ''}; frame-ancestors 'none'; base-uri 'none'`);
}

/** The connect page of a request (the app's own parameters only). */
function connectPath(request: ConnectRequest): string {
  const params = new URLSearchParams({ client_id: request.client.id, scopes: request.scopes.join(','), nonce: request.nonce, redirect_origin: request.redirectOrigin });
  return `/connect/${encodeURIComponent(request.provider.name)}?${params.toString()}`;
}

/** Binds the provider login's state to the connect page it returns to (a short-lived cookie sent to the callback only). */
function rememberReturn(ctx: Context, loginUrl: string, path: string): void {
  const state = new URL(loginUrl).searchParams.get('state');
  if (!state) return;
  ctx.cookies.set(RETURN_COOKIE, `${sha256(state)}.${Buffer.from(path).toString('base64url')}`, { ...cookieOptions(ctx), path: RETURN_COOKIE_PATH, maxAge: RETURN_TTL_MS });
}

function cookieOptions(ctx: Context) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: ctx.secure, overwrite: true };
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function originOf(uri: string): string {
  try {
    const origin = new URL(uri).origin;
    return /^https?:\/\/[^\s;,']+$/.test(origin) ? origin : '';
  } catch {
    return '';
  }
}

function formOf(ctx: Context): Record<string, string | undefined> {
  const body = (ctx.request as { body?: unknown }).body;
  const out: Record<string, string | undefined> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
  return out;
}
