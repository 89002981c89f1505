import type { Principal } from '../api-key/principal.js';
import type { AccessTokenVerifier } from './access-token-verifier.port.js';
import type { OAuthArtifact, OAuthArtifactStore } from './oauth-artifact-store.port.js';
import type { OAuthClient, OAuthClientPatch } from './oauth-client.js';
import type { OAuthClientRepository } from './oauth-client.repository.port.js';

export interface OAuthCacheOptions {
  /** How long a client row, or an access token's check, is reused. 0 turns caching off. Default 1000 ms. */
  ttlMs?: number;
  /** Most entries kept in each cache; the oldest goes first. Default 10,000. */
  maxEntries?: number;
  /** Milliseconds now. Default Date.now. */
  now?: () => number;
}

/**
 * Short-lived, per-process caches for the authorization side of every app request: OAuth
 * client rows (read by the token check, the execute, each webhook enqueue and attempt) and
 * access-token checks (a token, its grant and its client: three reads per request otherwise).
 *
 * Writes made in this process take effect at once: a client written through
 * {@link CachingOAuthClientRepository}, and any token or grant destroyed or revoked through
 * {@link InvalidatingOAuthArtifactStore}, clear what they may have changed (a token revoked, a
 * client disabled or deleted, its secret or domains changed). A change made by another process
 * is seen within `ttlMs` (the same trade-off as the credential cache).
 */
export class OAuthCaches {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #clients = new Map<string, { client: OAuthClient | null; until: number }>();
  readonly #tokens = new Map<string, { principal: Principal; until: number }>();
  /** Bumped by every invalidation, so that a read that raced a write is not cached. */
  #generation = 0;

  constructor(options: OAuthCacheOptions = {}) {
    this.#ttlMs = Math.max(0, options.ttlMs ?? 1000);
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.#ttlMs > 0;
  }

  get generation(): number {
    return this.#generation;
  }

  /** A cached client (null: cached as absent), or undefined when not cached. */
  client(id: string): OAuthClient | null | undefined {
    return fresh(this.#clients, id, this.#now())?.client;
  }

  setClient(id: string, client: OAuthClient | null, readGeneration: number): void {
    if (this.enabled && readGeneration === this.#generation) put(this.#clients, id, { client, until: this.#now() + this.#ttlMs }, this.#maxEntries);
  }

  token(token: string): Principal | undefined {
    return fresh(this.#tokens, token, this.#now())?.principal;
  }

  setToken(token: string, principal: Principal, readGeneration: number): void {
    if (this.enabled && readGeneration === this.#generation) put(this.#tokens, token, { principal, until: this.#now() + this.#ttlMs }, this.#maxEntries);
  }

  /** A client changed: its row goes, and every token check (a token names its client only inside). */
  clientChanged(id: string): void {
    this.#generation++;
    this.#clients.delete(id);
    this.#tokens.clear();
  }

  /** Tokens or grants were revoked: every token check goes. */
  tokensChanged(): void {
    this.#generation++;
    this.#tokens.clear();
  }
}

function fresh<V extends { until: number }>(map: Map<string, V>, key: string, now: number): V | undefined {
  const entry = map.get(key);
  if (!entry) return undefined;
  if (entry.until > now) return entry;
  map.delete(key);
  return undefined;
}

function put<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/** The OAuth client repository with {@link OAuthCaches}: reads of one client are reused for a moment; writes clear them. */
export class CachingOAuthClientRepository implements OAuthClientRepository {
  constructor(
    private readonly inner: OAuthClientRepository,
    private readonly caches: OAuthCaches,
  ) {}

  create(client: OAuthClient): Promise<void> {
    this.caches.clientChanged(client.id);
    return this.inner.create(client);
  }

  async get(id: string): Promise<OAuthClient | null> {
    const cached = this.caches.client(id);
    if (cached !== undefined) return cached;
    const generation = this.caches.generation;
    const client = await this.inner.get(id);
    this.caches.setClient(id, client, generation);
    return client;
  }

  listByUser(userId: string): Promise<OAuthClient[]> {
    return this.inner.listByUser(userId);
  }

  async update(id: string, patch: OAuthClientPatch): Promise<OAuthClient | null> {
    this.caches.clientChanged(id);
    try {
      return await this.inner.update(id, patch);
    } finally {
      this.caches.clientChanged(id);
    }
  }

  async delete(id: string): Promise<boolean> {
    this.caches.clientChanged(id);
    try {
      return await this.inner.delete(id);
    } finally {
      this.caches.clientChanged(id);
    }
  }
}

/** The authorization server's store: whatever ends tokens (destroy, revoke, consume) clears the token checks. */
export class InvalidatingOAuthArtifactStore implements OAuthArtifactStore {
  constructor(
    private readonly inner: OAuthArtifactStore,
    private readonly caches: OAuthCaches,
  ) {}

  upsert(artifact: OAuthArtifact): Promise<void> {
    return this.inner.upsert(artifact);
  }

  find(model: string, id: string): Promise<OAuthArtifact | null> {
    return this.inner.find(model, id);
  }

  findByUserCode(model: string, userCode: string): Promise<OAuthArtifact | null> {
    return this.inner.findByUserCode(model, userCode);
  }

  findByUid(model: string, uid: string): Promise<OAuthArtifact | null> {
    return this.inner.findByUid(model, uid);
  }

  consume(model: string, id: string, at: Date): Promise<boolean> {
    return this.#ending(() => this.inner.consume(model, id, at));
  }

  destroy(model: string, id: string): Promise<boolean> {
    return this.#ending(() => this.inner.destroy(model, id));
  }

  revokeByGrantId(model: string, grantId: string): Promise<number> {
    return this.#ending(() => this.inner.revokeByGrantId(model, grantId));
  }

  revokeByClientId(clientId: string): Promise<number> {
    return this.#ending(() => this.inner.revokeByClientId(clientId));
  }

  deleteExpired(before: Date): Promise<number> {
    return this.inner.deleteExpired(before);
  }

  async #ending<T>(write: () => Promise<T>): Promise<T> {
    this.caches.tokensChanged();
    try {
      return await write();
    } finally {
      this.caches.tokensChanged();
    }
  }
}

/** An access-token check reused for a moment per token (see {@link OAuthCaches}); unknown tokens are never cached. */
export class CachingAccessTokenVerifier implements AccessTokenVerifier {
  constructor(
    private readonly inner: AccessTokenVerifier,
    private readonly caches: OAuthCaches,
  ) {}

  async verify(token: string): Promise<Principal | null> {
    const cached = this.caches.token(token);
    if (cached) return cached;
    const generation = this.caches.generation;
    const principal = await this.inner.verify(token);
    if (principal) this.caches.setToken(token, principal, generation);
    return principal;
  }
}
