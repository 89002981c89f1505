import type { Credential } from './credential.js';
import type { CredentialRepository } from './credential.repository.port.js';

export interface CredentialCacheOptions {
  /** How long a credential row read from storage is reused. 0 turns the cache off. Default 1000 ms. */
  ttlMs?: number;
  /** Most rows kept; the oldest is dropped first. Default 10,000. */
  maxEntries?: number;
}

/**
 * A short-lived, per-process cache of credential rows as storage holds them: sealed, never
 * decrypted (a run still decrypts its secret for itself). It spares the storage read when a
 * credential is used again soon — the check at acceptance and the run that follows, or many runs
 * of one agent. Writes made in this process invalidate at once (see
 * {@link InvalidatingCredentialRepository}); a change made by another process is seen within `ttlMs`.
 */
export class CredentialCache {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #rows = new Map<string, { credential: Credential; until: number }>();
  /** Bumped by every invalidation, so that a read that raced a write is not cached. */
  #generation = 0;

  constructor(options: CredentialCacheOptions = {}) {
    this.#ttlMs = Math.max(0, options.ttlMs ?? 1000);
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  }

  get enabled(): boolean {
    return this.#ttlMs > 0;
  }

  /** The cached row, or undefined when absent or older than the TTL. */
  get(id: string, nowMs: number): Credential | undefined {
    const entry = this.#rows.get(id);
    if (!entry) return undefined;
    if (entry.until > nowMs) return entry.credential;
    this.#rows.delete(id);
    return undefined;
  }

  /** Take it before reading from storage and hand it to {@link set}. */
  get generation(): number {
    return this.#generation;
  }

  /** Caches a row read from storage, unless some credential was written since `readGeneration`. */
  set(credential: Credential, nowMs: number, readGeneration: number): void {
    if (!this.enabled || readGeneration !== this.#generation) return;
    this.#rows.delete(credential.id);
    if (this.#rows.size >= this.#maxEntries) this.#rows.delete(this.#rows.keys().next().value!);
    this.#rows.set(credential.id, { credential, until: nowMs + this.#ttlMs });
  }

  invalidate(id: string): void {
    this.#generation++;
    this.#rows.delete(id);
  }

  clear(): void {
    this.#generation++;
    this.#rows.clear();
  }
}

/**
 * The credential repository as core's services use it: every write (and every compare-and-set
 * that lost, which means this process's view was stale) drops the row from the cache first.
 */
export class InvalidatingCredentialRepository implements CredentialRepository {
  constructor(
    private readonly inner: CredentialRepository,
    private readonly cache: CredentialCache,
  ) {}

  create(credential: Credential): Promise<void> {
    this.cache.invalidate(credential.id);
    return this.inner.create(credential);
  }

  get(id: string): Promise<Credential | null> {
    return this.inner.get(id);
  }

  listByUser(userId: string): Promise<Credential[]> {
    return this.inner.listByUser(userId);
  }

  async update(credential: Credential, expectedUpdatedAt: Date): Promise<boolean> {
    this.cache.invalidate(credential.id);
    try {
      return await this.inner.update(credential, expectedUpdatedAt);
    } finally {
      this.cache.invalidate(credential.id);
    }
  }

  async delete(id: string): Promise<boolean> {
    this.cache.invalidate(id);
    try {
      return await this.inner.delete(id);
    } finally {
      this.cache.invalidate(id);
    }
  }

  listAll(afterId: string | null, limit: number): Promise<Credential[]> {
    return this.inner.listAll(afterId, limit);
  }
}
