import type { Credential } from '../credential/credential.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import { NotFoundError, PermissionError } from '../errors/domain.errors.js';
import { ConnectError, redirectOrigins, type ConnectQuery, type ConnectRequest } from '../grant/connect.js';
import type { GrantEvents } from '../grant/grant-events.port.js';
import type { GrantRepository } from '../grant/grant.repository.port.js';
import { isGrantLive, parseIntegrationScopes, type Grant } from '../grant/grant.js';
import type { AppAuthorizations } from '../oauth-client/app-authorizations.port.js';
import type { OAuthClient } from '../oauth-client/oauth-client.js';
import type { OAuthClientRepository } from '../oauth-client/oauth-client.repository.port.js';
import type { ProviderRegistry } from '../provider/provider-registry.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { Logger } from '../system/logger.port.js';
import type { CredentialDeletion } from './credential.service.js';
import type { OAuthClientDeletionHook } from './oauth-client.service.js';

/** Who acts through the external API: an app (client) for a user. */
export interface AppActor {
  readonly userId: string;
  readonly clientId: string;
}

/** A credential on the connect page: usable for the request, or not and why. */
export interface ConnectChoice {
  readonly credential: Credential;
  /** Null when it can be granted; else why not, in plain words. */
  readonly unusableBecause: string | null;
}

/** A grant with the app it was given to (null when the app is gone), for its user's listing. */
export interface GrantWithClient {
  readonly grant: Grant;
  readonly client: OAuthClient | null;
}

export interface GrantServiceDeps {
  grants: GrantRepository;
  clients: OAuthClientRepository;
  credentials: CredentialRepository;
  providers: ProviderRegistry;
  /** Deletes a credential for its user (revoking it at the provider first): the CredentialService. */
  credentialDeleter: { deleteCredential(userId: string, id: string): Promise<CredentialDeletion> };
  /** Told of every revocation (`grant.revoked` webhooks). */
  events: GrantEvents;
  /** Fails the executions still going through a revoked grant (the ExecutionService); absent: their node runs still refuse it. */
  executions?: { grantRevoked(grantId: string): Promise<unknown> };
  /**
   * The users' authorizations of apps (the authorization server): a connect request goes on
   * only for an app the user authorized with `integrations:connect`. Absent: every connect
   * request is refused (access_denied), as none can be checked.
   */
  authorizations?: AppAuthorizations | null;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
}

/** The scope an app's authorization must include for it to ask for grants on the connect page. */
export const CONNECT_SCOPE = 'integrations:connect';
/** Longest nonce accepted on the connect page. */
const NONCE_MAX = 512;
/** `lastUsedAt` is written at most this often per grant. */
const LAST_USED_GRANULARITY_MS = 60_000;

/**
 * Credential grants: the connect page's checks and the grant it makes, a user's listing and
 * revocation, an app's view of its grants (and deleting a credential through one), revocation
 * when a client is deleted, and the live grants an app's execution may use. Another user's or
 * another app's grant is "not found", never "forbidden".
 */
export class GrantService implements OAuthClientDeletionHook {
  constructor(private readonly deps: GrantServiceDeps) {}

  /**
   * Checks a connect request in the order that decides where a failure may be told: the client
   * (unknown: nothing is posted), the redirect origin (not one of the client's: nothing is
   * posted), then, with the origin verified, the nonce, the client's state, the provider and the
   * scopes (ConnectError with the origin, to be posted).
   */
  async checkConnect(query: ConnectQuery): Promise<ConnectRequest> {
    const clientId = query.clientId?.trim() ?? '';
    const client = clientId && clientId.length <= 200 ? await this.deps.clients.get(clientId) : null;
    if (!client) throw new ConnectError('invalid_client', clientId ? `unknown client_id ${clientId.slice(0, 200)}` : 'client_id is required', null, null);
    const origin = verifiedOrigin(client, query.redirectOrigin);
    if (!origin) {
      throw new ConnectError(
        'invalid_request',
        query.redirectOrigin ? `redirect_origin ${query.redirectOrigin.slice(0, 200)} is not the origin of any of ${client.name}'s redirect URIs` : 'redirect_origin is required',
        null,
        null,
      );
    }
    const nonce = query.nonce ?? '';
    if (!nonce) throw new ConnectError('invalid_request', 'nonce is required', origin, null);
    if (nonce.length > NONCE_MAX || /[\u0000-\u001f\u007f]/.test(nonce)) throw new ConnectError('invalid_request', `nonce must be 1 to ${NONCE_MAX} printable characters`, origin, null);
    if (client.disabledAt) throw new ConnectError('invalid_client', `${client.name} is disabled`, origin, nonce);
    const provider = this.deps.providers.get(query.provider)?.definition;
    if (!provider) throw new ConnectError('invalid_request', `unknown provider ${query.provider.slice(0, 100)}`, origin, nonce);
    const known = Object.keys(provider.integration_scopes ?? {});
    const scopes = parseIntegrationScopes(query.scopes);
    const unknown = scopes.filter((s) => !known.includes(s));
    if (unknown.length) {
      throw new ConnectError('invalid_scope', `unknown scope(s) of ${provider.name}: ${unknown.join(', ').slice(0, 500)} (it has ${known.join(', ') || 'none'})`, origin, nonce);
    }
    if (!scopes.length && known.length) throw new ConnectError('invalid_scope', `name the scopes of ${provider.name} to grant (${known.join(', ')})`, origin, nonce);
    return { client, provider, scopes, nonce, redirectOrigin: origin };
  }

  /**
   * Once the user is known: the request's app must hold the user's live authorization with
   * `integrations:connect` (the consent the app's tokens are issued under). ConnectError
   * access_denied otherwise, to be posted to the verified origin.
   */
  async checkConnectAuthorized(userId: string, request: ConnectRequest): Promise<void> {
    const authorizations = this.deps.authorizations;
    const authorized = authorizations ? await authorizations.hasAuthorized(userId, request.client.id, CONNECT_SCOPE) : false;
    if (authorized) return;
    throw new ConnectError(
      'access_denied',
      authorizations
        ? `${request.client.name} may not ask for your integrations: you have not authorized it with the ${CONNECT_SCOPE} scope (sign in to ${request.client.name} with Blockyard again and allow it to connect new integrations)`
        : `${request.client.name} may not ask for your integrations: this server cannot check the apps you authorized`,
      request.redirectOrigin,
      request.nonce,
    );
  }

  /** The user's credentials of the request's provider, each usable for it or not (and why). */
  async connectChoices(userId: string, request: ConnectRequest): Promise<ConnectChoice[]> {
    const credentials = (await this.deps.credentials.listByUser(userId)).filter((c) => c.provider === request.provider.name);
    return credentials.map((credential) => ({ credential, unusableBecause: unusableBecause(credential, request.scopes, this.deps.clock.now()) }));
  }

  /**
   * Gives the request's client a grant on the user's credential for the request's scopes. A
   * credential that is not the user's, of another provider, not active or lacking a scope is a
   * ConnectError (invalid_request), to be posted.
   */
  async grantCredential(userId: string, request: ConnectRequest, credentialId: string): Promise<Grant> {
    const fail = (message: string): never => {
      throw new ConnectError('invalid_request', message, request.redirectOrigin, request.nonce);
    };
    const credential = credentialId ? await this.deps.credentials.get(credentialId) : null;
    if (!credential || credential.userId !== userId || credential.provider !== request.provider.name) return fail(`no ${request.provider.display_name} credential ${credentialId.slice(0, 100)} of yours`);
    const why = unusableBecause(credential, request.scopes, this.deps.clock.now());
    if (why) fail(`credential ${credential.title} cannot be granted: ${why}`);
    const grant: Grant = {
      id: this.deps.ids.next(),
      userId,
      clientId: request.client.id,
      credentialId: credential.id,
      provider: credential.provider,
      scopes: [...request.scopes],
      createdAt: this.deps.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    };
    await this.deps.grants.create(grant);
    this.deps.logger.info('credential grant created', { grantId: grant.id, clientId: grant.clientId, provider: grant.provider, scopes: grant.scopes });
    return grant;
  }

  /** The user's grants, live and revoked, oldest first, each with its app. */
  async listForUser(userId: string): Promise<GrantWithClient[]> {
    const grants = await this.#reconciled(userId, await this.deps.grants.listByUser(userId));
    const clients = new Map<string, OAuthClient | null>();
    for (const id of new Set(grants.map((g) => g.clientId))) clients.set(id, await this.deps.clients.get(id));
    return grants.map((grant) => ({ grant, client: clients.get(grant.clientId) ?? null }));
  }

  /** Revokes one of the user's grants (a revoked one stays revoked: no-op); NotFoundError for others' ids. */
  async revokeForUser(userId: string, grantId: string): Promise<Grant> {
    const grant = await this.deps.grants.get(grantId);
    if (!grant || grant.userId !== userId) throw new NotFoundError(`grant ${grantId} not found`);
    if (!isGrantLive(grant)) return grant;
    const revoked = await this.deps.grants.revoke(grantId, this.deps.clock.now());
    if (!revoked) return (await this.deps.grants.get(grantId)) ?? grant;
    await this.#announce([revoked]);
    return revoked;
  }

  /** The app's grants from this user; live ones only unless `includeRevoked`. */
  async listForClient(actor: AppActor, options: { includeRevoked?: boolean } = {}): Promise<Grant[]> {
    const grants = await this.#reconciled(actor.userId, await this.deps.grants.listByUserAndClient(actor.userId, actor.clientId));
    return options.includeRevoked ? grants : grants.filter(isGrantLive);
  }

  /** One of the app's grants from this user (also a revoked one); NotFoundError for any other. */
  async getForClient(actor: AppActor, grantId: string): Promise<Grant> {
    const grant = await this.deps.grants.get(grantId);
    if (!grant || grant.userId !== actor.userId || grant.clientId !== actor.clientId) throw new NotFoundError(`grant ${grantId} not found`);
    if (!isGrantLive(grant)) return grant;
    const [current] = await this.#reconciled(actor.userId, [grant], [await this.deps.credentials.get(grant.credentialId)]);
    return current!;
  }

  /**
   * Deletes the credential behind one of the app's live grants (revoking it at the provider
   * first, as the user's own delete does); every grant on it, of any app, is revoked. A revoked
   * grant is a PermissionError; another app's or user's grant a NotFoundError.
   */
  async deleteCredentialViaGrant(actor: AppActor, grantId: string): Promise<{ grant: Grant; deletion: CredentialDeletion }> {
    const grant = await this.getForClient(actor, grantId);
    if (!isGrantLive(grant)) throw new PermissionError(`grant ${grantId} is revoked: it cannot delete its credential`);
    const deletion = await this.deps.credentialDeleter.deleteCredential(actor.userId, grant.credentialId);
    const revoked = await this.deps.grants.revokeByCredential(grant.credentialId, this.deps.clock.now());
    await this.#announce(revoked);
    return { grant: revoked.find((g) => g.id === grant.id) ?? (await this.deps.grants.get(grant.id)) ?? grant, deletion };
  }

  /** OAuthClientDeletionHook: a deleted app's grants are revoked (and announced). */
  /** Revokes (and announces) every live grant of a credential its owner deleted. */
  async credentialDeleted(credential: Credential): Promise<void> {
    await this.#announce(await this.deps.grants.revokeByCredential(credential.id, this.deps.clock.now()));
  }

  async oauthClientDeleted(client: OAuthClient): Promise<void> {
    await this.#announce(await this.deps.grants.revokeByClient(client.id, this.deps.clock.now()));
  }

  /**
   * The app's live grants from this user whose credential still exists (grants whose credential
   * is gone are revoked on the way), for an execution to choose from.
   */
  async liveGrantsFor(actor: AppActor): Promise<Grant[]> {
    return this.listForClient(actor);
  }

  /** Records that an execution used these grants (`lastUsedAt`, at most once a minute each). */
  async markUsed(grants: readonly Grant[]): Promise<void> {
    const now = this.deps.clock.now();
    const stale = grants.filter((g) => !g.lastUsedAt || now.getTime() - g.lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS).map((g) => g.id);
    if (stale.length) await this.deps.grants.markUsed(stale, now);
  }

  /**
   * Revokes the live grants among `grants` whose credential no longer exists (deleted by its
   * user), announcing each, and answers the grants as they now are. `credentials`: the user's
   * credentials when already read (null entries for missing ones), else read here.
   */
  async #reconciled(userId: string, grants: readonly Grant[], credentials?: ReadonlyArray<Credential | null>): Promise<Grant[]> {
    const live = grants.filter(isGrantLive);
    if (!live.length) return [...grants];
    const existing = new Set((credentials ?? (await this.deps.credentials.listByUser(userId))).filter((c): c is Credential => !!c && c.userId === userId).map((c) => c.id));
    const orphaned = live.filter((g) => !existing.has(g.credentialId));
    if (!orphaned.length) return [...grants];
    const now = this.deps.clock.now();
    const revoked = new Map<string, Grant>();
    for (const grant of orphaned) {
      const done = await this.deps.grants.revoke(grant.id, now);
      if (done) revoked.set(done.id, done);
    }
    await this.#announce([...revoked.values()]);
    return grants.map((g) => revoked.get(g.id) ?? (orphaned.includes(g) ? { ...g, revokedAt: g.revokedAt ?? now } : g));
  }

  async #announce(revoked: readonly Grant[]): Promise<void> {
    for (const grant of revoked) {
      this.deps.logger.info('credential grant revoked', { grantId: grant.id, clientId: grant.clientId, provider: grant.provider });
      try {
        await this.deps.executions?.grantRevoked(grant.id);
      } catch (e) {
        this.deps.logger.error('could not fail the executions of a revoked grant', { grantId: grant.id, error: e instanceof Error ? e.message : String(e) });
      }
      try {
        await this.deps.events.revoked(grant);
      } catch (e) {
        this.deps.logger.error('grant.revoked listener failed', { grantId: grant.id, error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
}

/** The request's `redirect_origin` when it is the origin of one of the client's redirect URIs (a trailing slash allowed); else null. */
function verifiedOrigin(client: OAuthClient, value: string | null | undefined): string | null {
  if (!value || value.length > 2000) return null;
  let origin: string;
  try {
    origin = new URL(value).origin;
  } catch {
    return null;
  }
  if (value !== origin && value !== `${origin}/`) return null;
  return redirectOrigins(client).includes(origin) ? origin : null;
}

/** Why a credential cannot be granted for these scopes, or null when it can. */
function unusableBecause(credential: Credential, scopes: readonly string[], now: Date): string | null {
  if (credential.status !== 'active') return credential.status === 'needs_reauth' ? 'it needs to be connected again' : `it is ${credential.status}`;
  if (credential.kind !== 'oauth2' && credential.expiresAt && credential.expiresAt.getTime() <= now.getTime()) return 'it has expired';
  const missing = scopes.filter((s) => !credential.scopes.includes(s));
  if (missing.length) return `it lacks ${missing.join(', ')}`;
  return null;
}
