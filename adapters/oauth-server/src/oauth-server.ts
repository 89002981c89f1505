import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  clientSecretMatches,
  isOAuthClientActive,
  knownOAuthScopes,
  NotFoundError,
  OAUTH_SCOPE_DESCRIPTIONS,
  OAUTH_SCOPES,
  oauthClientScopes,
  originOfRedirectUris,
  silentLogger,
  unknownOAuthScopes,
  type AccessTokenVerifier,
  type AppAuthorizations,
  type Logger,
  type OAuthArtifactStore,
  type OAuthClientRepository,
  type Principal,
  type UserRepository,
} from '@blockyard/core';
import type ProviderType from 'oidc-provider';
import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { errorPageHtml } from './error-page.js';
import { ArtifactAdapter, ClientAdapter, Housekeeping, storageId, type InvalidGrantClass } from './oidc-storage.adapter.js';
import type { OAuthServerKeys } from './signing-keys.js';

/** Token and code lifetimes, in seconds. */
export interface OAuthServerTtl {
  /** Authorization codes: default 60, at most 600. */
  authorizationCodeSeconds?: number;
  /** Access tokens: default 3600. */
  accessTokenSeconds?: number;
  /** Refresh tokens, renewed with each rotation: default 30 days. */
  refreshTokenSeconds?: number;
  /** A consent (grant): refresh tokens stop working after it. Default 365 days. */
  grantSeconds?: number;
  /** A pending login and consent: default 30 minutes. */
  interactionSeconds?: number;
}

export interface OAuthServerOptions {
  /** The public base URL (`BLOCKYARD_PUBLIC_URL`): the issuer, as discovery and ID tokens say it. */
  issuer: string;
  clients: OAuthClientRepository;
  artifacts: OAuthArtifactStore;
  users: UserRepository;
  /** Signing keys; loaded on first use (so that commands which serve no HTTP never touch them). */
  keys: () => Promise<OAuthServerKeys>;
  ttl?: OAuthServerTtl;
  /** Trust X-Forwarded-Proto/-For from a reverse proxy. */
  trustProxy?: boolean;
  logger?: Logger;
}

/** The Koa context as this adapter needs it (no Koa import: the HTTP adapter owns Koa). */
export interface HttpContextLike {
  readonly path: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  respond?: boolean;
}

/** A pending authorization request, for the consent page. */
export interface PendingAuthorization {
  readonly uid: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly clientDescription: string;
  readonly redirectUri: string;
  /** The known scopes asked for, each with what it lets the app do. */
  readonly scopes: ReadonlyArray<{ name: string; description: string }>;
}

/** Where the protocol endpoints live (the issuer is the site's root: discovery is at /.well-known). */
export const OAUTH_ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  userinfo: '/oauth/userinfo',
  revocation: '/oauth/revoke',
  jwks: '/.well-known/jwks.json',
  discovery: '/.well-known/openid-configuration',
  /** Our own login and consent pages (served by the HTTP adapter). */
  interaction: '/oauth/interaction',
} as const;

const PROTOCOL_PATHS = new Set<string>([OAUTH_ROUTES.authorization, OAUTH_ROUTES.token, OAUTH_ROUTES.userinfo, OAUTH_ROUTES.revocation, OAUTH_ROUTES.jwks, OAUTH_ROUTES.discovery]);

/** Errors whose detail is safe and useful to show (oidc-provider keeps it to itself by default). */
const DETAILED_ERRORS = new Set(['invalid_grant']);

/**
 * The OAuth 2.0 / OpenID Connect authorization server: oidc-provider (certified, Koa-native),
 * configured for authorization code + PKCE S256 only, exact redirect URIs, single-use codes,
 * rotating refresh tokens with reuse detection, and revocation; its storage goes through
 * Blockyard's OAuthArtifactStore and its clients come from the OAuthClientRepository.
 *
 * oidc-provider is loaded, and the signing keys read, on first use.
 */
export class OAuthServer implements AccessTokenVerifier, AppAuthorizations {
  private started: Promise<{ provider: ProviderType; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> }> | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: OAuthServerOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  /** Loads oidc-provider and the keys now (the server calls this at start, so that bad keys fail the start). */
  async start(): Promise<void> {
    await this.ready();
  }

  /** Koa middleware: answers the protocol endpoints, passes anything else on. Mount it before any body parser. */
  middleware() {
    return async (ctx: HttpContextLike, next: () => Promise<unknown>): Promise<void> => {
      if (!isProtocolPath(ctx.path)) {
        await next();
        return;
      }
      const { handle } = await this.ready();
      ctx.respond = false; // oidc-provider, a Koa app of its own, writes the response
      await handle(ctx.req, ctx.res);
    };
  }

  /** The authorization request waiting for the user behind this browser's interaction cookie. */
  async pendingAuthorization(uid: string, req: IncomingMessage, res: ServerResponse): Promise<PendingAuthorization> {
    const { provider } = await this.ready();
    const interaction = await this.interactionFor(provider, uid, req, res);
    const clientId = String(interaction.params.client_id);
    const client = await this.options.clients.get(clientId);
    if (!client || !isOAuthClientActive(client)) throw new NotFoundError('the app that asked for access no longer exists or is disabled');
    return {
      uid: interaction.uid,
      clientId,
      clientName: client.name,
      clientDescription: client.description,
      redirectUri: String(interaction.params.redirect_uri),
      scopes: knownOAuthScopes(String(interaction.params.scope ?? '')).map((name) => ({ name, description: OAUTH_SCOPE_DESCRIPTIONS[name] ?? name })),
    };
  }

  /**
   * Completes the pending authorization: approved for `userId` (a grant of the asked-for known
   * scopes), or denied (access_denied to the app). Answers where to send the browser.
   */
  async finishAuthorization(uid: string, req: IncomingMessage, res: ServerResponse, outcome: { userId: string; approved: boolean }): Promise<string> {
    const { provider } = await this.ready();
    const interaction = await this.interactionFor(provider, uid, req, res);
    if (!outcome.approved) {
      return provider.interactionResult(req, res, { error: 'access_denied', error_description: 'the user denied the request' }, { mergeWithLastSubmission: false });
    }
    const grant = new provider.Grant({ accountId: outcome.userId, clientId: String(interaction.params.client_id) });
    const scopes = knownOAuthScopes(String(interaction.params.scope ?? ''));
    if (scopes.length) grant.addOIDCScope(scopes.join(' '));
    const grantId = await grant.save();
    await this.rememberGrant(outcome.userId, String(interaction.params.client_id), grantId);
    return provider.interactionResult(req, res, { login: { accountId: outcome.userId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  }

  /** The name of the app behind a pending authorization request (the login page names it), or null. */
  async clientNameOfInteraction(uid: string): Promise<string | null> {
    const { provider } = await this.ready();
    const interaction = await provider.Interaction.find(uid);
    const clientId = interaction?.params.client_id;
    const client = typeof clientId === 'string' ? await this.options.clients.get(clientId) : null;
    return client && isOAuthClientActive(client) ? client.name : null;
  }

  /** AccessTokenVerifier: the user, client and scopes of a live access token of a live grant of an active client. */
  async verify(token: string): Promise<Principal | null> {
    if (!token || token.length > 512) return null;
    const { provider } = await this.ready();
    const accessToken = await provider.AccessToken.find(token);
    if (!accessToken || accessToken.isExpired || !accessToken.accountId || !accessToken.clientId || !accessToken.grantId) return null;
    // A revoked grant (a replayed code or refresh token, a revoked refresh token) ends its tokens,
    // also those saved while it was being revoked.
    const grant = await provider.Grant.find(accessToken.grantId);
    if (!grant || grant.clientId !== accessToken.clientId || grant.accountId !== accessToken.accountId) return null;
    const client = await this.options.clients.get(accessToken.clientId);
    if (!client || !isOAuthClientActive(client)) return null;
    // A scope the client may no longer request (its allow-list narrowed since) is gone at once.
    const held = accessToken.scopes;
    const scopes = client.scopes ? new Set(oauthClientScopes(client).filter((s) => held.has(s))) : held;
    return { userId: accessToken.accountId, scopes, via: `oauth:${client.id}`, clientId: client.id };
  }

  /**
   * AppAuthorizations: whether one of the user's grants (consents) of this client that are still
   * live (not revoked by a revoked refresh token or a replay, not expired, the client not deleted
   * or disabled) includes `scope`, read narrowed to the client's current scope allow-list.
   */
  async hasAuthorized(userId: string, clientId: string, scope: string): Promise<boolean> {
    if (!userId || !clientId || clientId.length > 200) return false;
    const client = await this.options.clients.get(clientId);
    if (!client || !isOAuthClientActive(client)) return false;
    const index = await this.options.artifacts.find(AUTHORIZATIONS_MODEL, authorizationsId(userId, clientId));
    const grantIds = grantIdsOf(index?.payload);
    if (!grantIds.length) return false;
    const { provider } = await this.ready();
    for (const grantId of grantIds) {
      const grant = await provider.Grant.find(grantId);
      if (!grant || grant.accountId !== userId || grant.clientId !== clientId) continue;
      if (grant.getOIDCScope().split(' ').includes(scope)) return true;
    }
    return false;
  }

  /**
   * Adds a grant to the user's authorizations of the client (the index hasAuthorized reads:
   * the artifact store finds grants by id only). It belongs to the client, so that deleting the
   * client deletes it; it lives as long as its newest grant can; gone grants are dropped from it.
   */
  private async rememberGrant(userId: string, clientId: string, grantId: string): Promise<void> {
    const { artifacts } = this.options;
    const id = authorizationsId(userId, clientId);
    const known = grantIdsOf((await artifacts.find(AUTHORIZATIONS_MODEL, id))?.payload);
    const kept: string[] = [];
    for (const old of known) if (old !== grantId && (await artifacts.find('Grant', storageId(old)))) kept.push(old);
    const grantSeconds = grantTtlSeconds(this.options.ttl ?? {});
    await artifacts.upsert({
      model: AUTHORIZATIONS_MODEL,
      id,
      payload: { accountId: userId, clientId, grantIds: [grantId, ...kept].slice(0, MAX_REMEMBERED_GRANTS) },
      grantId: null,
      clientId,
      userCode: null,
      uid: null,
      expiresAt: new Date(Date.now() + grantSeconds * 1000),
      consumedAt: null,
    });
  }

  private async interactionFor(provider: ProviderType, uid: string, req: IncomingMessage, res: ServerResponse) {
    try {
      const interaction = await provider.interactionDetails(req, res);
      if (interaction.uid !== uid) throw new Error('interaction mismatch');
      return interaction;
    } catch {
      throw new NotFoundError('this sign-in request has expired or was already completed; go back to the app and start again');
    }
  }

  private ready() {
    this.started ??= this.create();
    return this.started;
  }

  private async create() {
    const [oidc, keys] = await Promise.all([importOidcProvider(this.logger), this.options.keys()]);
    const provider = new oidc.default(this.options.issuer, this.configuration(keys, oidc));
    provider.proxy = this.options.trustProxy ?? false;
    // Client secrets are stored as SHA-256 hashes: compare the hash of what the client sent.
    (provider.Client.prototype as unknown as { compareClientSecret(this: { clientSecret?: string }, actual: string): boolean }).compareClientSecret = function (actual) {
      return clientSecretMatches(this.clientSecret ?? null, actual);
    };
    // The body is set when these are emitted: show the detail of errors where it helps the app.
    const withDetail = (ctx: KoaContextWithOIDC, error: { error?: string; error_detail?: string }) => {
      const body = ctx.body as { error?: string; error_description?: string } | undefined;
      if (body && typeof body === 'object' && error.error && DETAILED_ERRORS.has(error.error) && error.error_detail) body.error_description = error.error_detail;
    };
    provider.on('grant.error', withDetail);
    provider.on('userinfo.error', withDetail);
    provider.on('revocation.error', withDetail);
    provider.on('server_error', (_ctx: unknown, error: Error) => this.logger.error('authorization server error', { error: error.stack ?? String(error) }));
    return { provider, handle: provider.callback() as unknown as (req: IncomingMessage, res: ServerResponse) => Promise<void> };
  }

  private configuration(keys: OAuthServerKeys, oidc: OidcModule): Configuration {
    const { Check, base } = oidc.interactionPolicy;
    const InvalidGrant = oidc.errors.InvalidGrant as unknown as InvalidGrantClass;
    const { clients, artifacts, users } = this.options;
    const ttl = this.options.ttl ?? {};
    const housekeeping = new Housekeeping(artifacts);
    const clientAdapter = new ClientAdapter(clients);
    const policy = base();
    // Every authorization is confirmed on our consent page by whoever is signed in to Blockyard
    // then: oidc-provider's own session never stands in for ours.
    policy.get('login')!.checks.push(
      new Check('blockyard_confirmation', 'the signed-in user confirms every authorization', (ctx) => (ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT)),
    );
    const refreshSeconds = ttl.refreshTokenSeconds ?? 30 * 86_400;
    return {
      adapter: (name: string) => (name === 'Client' ? clientAdapter : new ArtifactAdapter(name, artifacts, housekeeping, InvalidGrant, clients)),
      jwks: keys.jwks as Configuration['jwks'],
      cookies: {
        keys: keys.cookieKeys,
        names: { session: 'blockyard_oauth_session', interaction: 'blockyard_oauth_interaction', resume: 'blockyard_oauth_resume' },
      },
      routes: {
        authorization: OAUTH_ROUTES.authorization,
        token: OAUTH_ROUTES.token,
        userinfo: OAUTH_ROUTES.userinfo,
        revocation: OAUTH_ROUTES.revocation,
        jwks: OAUTH_ROUTES.jwks,
        // Off (features below), kept under /oauth so that they never shadow our own routes.
        end_session: '/oauth/session/end',
        introspection: '/oauth/introspect',
        registration: '/oauth/register',
        pushed_authorization_request: '/oauth/par',
        code_verification: '/oauth/device',
        device_authorization: '/oauth/device/auth',
        backchannel_authentication: '/oauth/backchannel',
        challenge: '/oauth/challenge',
      } as Configuration['routes'],
      scopes: [...OAUTH_SCOPES],
      claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
      responseTypes: ['code'],
      clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
      pkce: { required: () => true },
      // oidc-provider ignores scopes it does not know (OpenID Connect's SHOULD); this server refuses
      // them (RFC 6749 4.1.2.1): invalid_scope, sent back to the app's redirect_uri with its state.
      // A validator of `scope` as an extra parameter runs after the redirect_uri is checked and
      // after oidc-provider's own allow-list check (the client's `scope` metadata). By then
      // oidc-provider has dropped the unknown scopes from the parameters, so it reads the scope
      // as the app sent it (query or form: request objects and PAR are off). OpenID Connect's
      // offline_access is let through and means nothing here: every authorization gets a
      // refresh token (oidc-provider drops it itself unless prompt=consent).
      extraParams: {
        scope: async (ctx) => {
          const sent = (ctx.method === 'POST' ? ctx.oidc.body : ctx.query)?.scope;
          const unknown = unknownOAuthScopes(typeof sent === 'string' ? sent : '').filter((s) => s !== 'offline_access');
          if (unknown.length) throw new oidc.errors.InvalidScope(`unknown scope ${unknown.slice(0, 5).map((s) => JSON.stringify(s.slice(0, 60))).join(', ')}`, unknown.join(' '));
        },
      },
      allowOmittingSingleRegisteredRedirectUri: false,
      clientDefaults: { grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', id_token_signed_response_alg: 'RS256' },
      features: {
        devInteractions: { enabled: false },
        dPoP: { enabled: false },
        rpInitiatedLogout: { enabled: false },
        pushedAuthorizationRequests: { enabled: false },
        resourceIndicators: { enabled: false },
        // A client may revoke its own tokens only; another's token is left alone, answered 200 all the same.
        revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
        userinfo: { enabled: true },
        introspection: { enabled: false },
        registration: { enabled: false },
      },
      // Refresh tokens for every authorization (no offline_access needed), rotated on every use;
      // oidc-provider revokes the whole grant when a used one comes back.
      issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      rotateRefreshToken: true,
      expiresWithSession: async () => false,
      findAccount: async (_ctx, sub) => {
        const user = await users.get(sub);
        if (!user) return undefined;
        return { accountId: user.id, claims: async () => ({ sub: user.id, name: user.name, email: user.email }) };
      },
      interactions: { policy, url: (_ctx, interaction) => `${OAUTH_ROUTES.interaction}/${interaction.uid}` },
      loadExistingGrant: async (ctx) => {
        const grantId = ctx.oidc.result?.consent?.grantId;
        return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
      },
      // /oauth/token and /oauth/revoke answer a browser app's cross-origin calls only from the origin of one of its redirect URIs.
      clientBasedCORS: (_ctx, origin, client) => originOfRedirectUris(origin, client.redirectUris ?? []),
      renderError: async (ctx, out) => {
        ctx.set('Cache-Control', 'no-store');
        if (ctx.accepts('html', 'json') === 'json') {
          ctx.body = out; // `{ error, error_description }` for a client that asks for JSON
          return;
        }
        ctx.type = 'html';
        ctx.set('Cache-Control', 'no-store');
        ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'");
        ctx.body = errorPageHtml(out as { error?: string; error_description?: string });
      },
      ttl: {
        AccessToken: ttl.accessTokenSeconds ?? 3600,
        AuthorizationCode: Math.min(ttl.authorizationCodeSeconds ?? 60, 600),
        RefreshToken: refreshSeconds,
        IdToken: 3600,
        Grant: grantTtlSeconds(ttl),
        Interaction: ttl.interactionSeconds ?? 1800,
        Session: 12 * 3600,
        ClientCredentials: 600,
        DeviceCode: 600,
        BackchannelAuthenticationRequest: 600,
        PreAuthorizedCode: 600,
      },
    };
  }
}

/** Our own artifact model: a user's grants (consents) of one client, newest first (see OAuthServer.rememberGrant). */
const AUTHORIZATIONS_MODEL = 'BlockyardAuthorizations';
/** Grants kept in that index; older ones still work, but are no longer found by hasAuthorized. */
const MAX_REMEMBERED_GRANTS = 20;

function authorizationsId(userId: string, clientId: string): string {
  return storageId(`${clientId}\u0000${userId}`);
}

function grantIdsOf(payload: Readonly<Record<string, unknown>> | undefined): string[] {
  const ids = payload?.grantIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string' && id.length > 0) : [];
}

/** How long a grant (consent) lives: refresh tokens stop working after it, so never shorter than they do. */
function grantTtlSeconds(ttl: OAuthServerTtl): number {
  return Math.max(ttl.grantSeconds ?? 365 * 86_400, ttl.refreshTokenSeconds ?? 30 * 86_400);
}

function isProtocolPath(path: string): boolean {
  return PROTOCOL_PATHS.has(path) || path.startsWith(`${OAUTH_ROUTES.authorization}/`);
}

type OidcModule = typeof import('oidc-provider');

/**
 * Imports oidc-provider on first use. It warns on stderr, once, that Node.js 20 is not among the
 * runtimes it supports (it runs on it); that line goes to our log instead of stray output.
 */
async function importOidcProvider(logger: Logger): Promise<OidcModule> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    const line = String(args[0]);
    if (line.startsWith('oidc-provider WARNING: Unsupported runtime')) logger.warn('oidc-provider prefers Node.js 22 LTS or later; it runs on this one', { node: process.version });
    else warn(...args);
  };
  try {
    return await import('oidc-provider');
  } finally {
    console.warn = warn;
  }
}
