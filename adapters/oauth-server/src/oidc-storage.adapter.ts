import { createHash } from 'node:crypto';
import { isOAuthClientActive, oauthClientScopes, type OAuthArtifactStore, type OAuthClient, type OAuthClientRepository } from '@blockyard/core';
import type { Adapter, AdapterPayload } from 'oidc-provider';

/** oidc-provider's InvalidGrant (passed in: the module is loaded on first use). */
export type InvalidGrantClass = new () => Error & { error_detail?: string };

/** Models whose consumption must be single-use: a second consumer finds it used up and revokes its grant. */
const SINGLE_USE = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/** Expired artifacts are kept this long (so that a late use says "expired", not "unknown"), then pruned. */
const PRUNE_GRACE_MS = 3_600_000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Storage ids: the SHA-256 of what oidc-provider calls an id. For tokens, codes, sessions and
 * interactions that id is the secret value itself (the token, the cookie), so storage never
 * holds a usable credential; payloads are stored without their `jti` for the same reason.
 */
export function storageId(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The oidc-provider Adapter of one model, over Blockyard's OAuthArtifactStore. */
export class ArtifactAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: OAuthArtifactStore,
    private readonly housekeeping: Housekeeping,
    private readonly InvalidGrant: InvalidGrantClass,
    /** Given: refresh tokens and grants are read narrowed to their client's scope allow-list (see narrowToClientScopes). */
    private readonly clients?: OAuthClientRepository,
  ) {}

  async upsert(id: string, payload: AdapterPayload, expiresIn: number | undefined): Promise<void> {
    const { jti: _jti, consumed, ...rest } = payload as AdapterPayload & { consumed?: number };
    const now = Date.now();
    await this.store.upsert({
      model: this.model,
      id: storageId(id),
      payload: rest as Record<string, unknown>,
      grantId: typeof payload.grantId === 'string' ? payload.grantId : null,
      clientId: typeof payload.clientId === 'string' ? payload.clientId : null,
      userCode: typeof payload.userCode === 'string' ? payload.userCode : null,
      uid: typeof payload.uid === 'string' ? payload.uid : null,
      expiresAt: typeof expiresIn === 'number' ? new Date(now + expiresIn * 1000) : null,
      consumedAt: typeof consumed === 'number' ? new Date(consumed * 1000) : null,
    });
    this.housekeeping.maybePrune(now);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    const payload = this.toPayload(id, await this.store.find(this.model, storageId(id)));
    return payload && this.clients && NARROWED.has(this.model) ? narrowToClientScopes(this.model, payload, this.clients) : payload;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    // The device flow is off; kept for the Adapter interface (its id stays unknown here).
    return this.toPayload(undefined, await this.store.findByUserCode(this.model, userCode));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const found = await this.store.findByUid(this.model, uid);
    // Sessions are found by uid to check them, never to use their id: it stays unknown here.
    return found ? this.toPayload(undefined, found) : undefined;
  }

  /**
   * Marks it used, atomically. oidc-provider checks `consumed` before it consumes, but two
   * requests can both pass that check: the loser of the store's compare-and-set revokes the
   * grant (a replayed code or refresh token revokes what it issued) and is refused.
   */
  async consume(id: string): Promise<void> {
    const first = await this.store.consume(this.model, storageId(id), new Date());
    if (first || !SINGLE_USE.has(this.model)) return;
    const found = await this.store.find(this.model, storageId(id));
    const grantId = found?.grantId;
    if (grantId) await Promise.all(['AccessToken', 'RefreshToken', 'AuthorizationCode', 'Grant'].map((m) => (m === 'Grant' ? this.store.destroy('Grant', storageId(grantId)) : this.store.revokeByGrantId(m, grantId))));
    const error = new this.InvalidGrant();
    error.error_detail = `${this.model === 'RefreshToken' ? 'refresh token' : 'authorization code'} already used`;
    throw error;
  }

  async destroy(id: string): Promise<void> {
    await this.store.destroy(this.model, storageId(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.store.revokeByGrantId(this.model, grantId);
  }

  private toPayload(id: string | undefined, found: Awaited<ReturnType<OAuthArtifactStore['find']>>): AdapterPayload | undefined {
    if (!found) return undefined;
    return {
      ...(found.payload as AdapterPayload),
      ...(id !== undefined ? { jti: id } : {}),
      ...(found.consumedAt ? { consumed: Math.floor(found.consumedAt.getTime() / 1000) } : {}),
    };
  }
}

/** Models read narrowed to their client's current scope allow-list. */
const NARROWED = new Set(['RefreshToken', 'Grant']);

/**
 * A refresh token or grant without the scopes its client may no longer request (its allow-list
 * was narrowed after the user consented): a refresh asking for one of them is invalid_scope
 * (oidc-provider's "refresh token missing requested scope"), a refresh asking for none gets
 * the rest, and userinfo answers for the rest only.
 */
export async function narrowToClientScopes(model: string, payload: AdapterPayload, clients: OAuthClientRepository): Promise<AdapterPayload> {
  const clientId = payload.clientId;
  if (typeof clientId !== 'string') return payload;
  const client = await clients.get(clientId);
  if (!client?.scopes) return payload;
  const allowed = new Set(oauthClientScopes(client));
  const narrow = (scope: unknown) => (typeof scope === 'string' ? scope.split(' ').filter((s) => allowed.has(s)).join(' ') : scope);
  if (model === 'Grant') {
    const openid = (payload as { openid?: { scope?: string } }).openid;
    return openid?.scope === undefined ? payload : ({ ...payload, openid: { ...openid, scope: narrow(openid.scope) } } as AdapterPayload);
  }
  return payload.scope === undefined ? payload : { ...payload, scope: narrow(payload.scope) as string };
}

/** Prunes expired artifacts now and then, from whichever request writes. */
export class Housekeeping {
  private lastPrune = 0;
  constructor(private readonly store: OAuthArtifactStore) {}

  maybePrune(now: number): void {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    void this.store.deleteExpired(new Date(now - PRUNE_GRACE_MS)).catch(() => undefined);
  }
}

/**
 * The `Client` model, read from Blockyard's OAuthClientRepository: oidc-provider never writes
 * clients (dynamic registration is off). A disabled or deleted client is unknown at once.
 * `client_secret` carries the secret's hash; the server compares hashes (see createOAuthServer).
 */
export class ClientAdapter implements Adapter {
  constructor(private readonly clients: OAuthClientRepository) {}

  async find(id: string): Promise<AdapterPayload | undefined> {
    if (typeof id !== 'string' || id.length > 200) return undefined;
    const client = await this.clients.get(id);
    return client && isOAuthClientActive(client) ? clientMetadata(client) : undefined;
  }

  async upsert(): Promise<void> {
    throw new Error('OAuth clients are managed through /oauth/clients, not by the authorization server');
  }
  async findByUserCode(): Promise<undefined> {
    return undefined;
  }
  async findByUid(): Promise<undefined> {
    return undefined;
  }
  async consume(): Promise<void> {}
  async destroy(): Promise<void> {}
  async revokeByGrantId(): Promise<void> {}
}

/** A Blockyard client as oidc-provider client metadata: authorization code + refresh tokens, exact redirect URIs. */
export function clientMetadata(client: OAuthClient): AdapterPayload {
  return {
    client_id: client.id,
    client_name: client.name,
    ...(client.type === 'confidential' && client.secretHash ? { client_secret: client.secretHash, token_endpoint_auth_method: 'client_secret_basic' } : { token_endpoint_auth_method: 'none' }),
    redirect_uris: [...client.redirectUris],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    application_type: 'web',
    // oidc-provider refuses a known scope outside it with invalid_scope (unknown ones: see OAuthServer).
    scope: oauthClientScopes(client).join(' '),
  };
}
