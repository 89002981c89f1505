import type { OAuthState, OAuthStateRepository } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface OAuthStateRow {
  id: string;
  user_id: string;
  provider: string;
  verifier_key_id: string | null;
  verifier_nonce: string | null;
  verifier_ciphertext: string | null;
  verifier_tag: string | null;
  redirect_uri: string;
  scopes: unknown;
  expires_at: DbDate;
  created_at: DbDate;
}

/** Pending provider logins in `oauth_states`; `consume` reads and deletes in one transaction. */
export class KnexOAuthStateRepository implements OAuthStateRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(state: OAuthState): Promise<void> {
    const row = this.toRow(state);
    await this.writes.runStatement((db) => db<OAuthStateRow>('oauth_states').insert(row)).catch((error: unknown) =>
      rethrowUniqueViolation(error, () => `oauth state ${state.id} already exists`),
    );
  }

  async consume(id: string): Promise<OAuthState | null> {
    // Whoever deletes the row owns it: a concurrent consumer deletes nothing and gets null.
    const row = await this.writes.run(async (db) => {
      const found = await db<OAuthStateRow>('oauth_states').where('id', id).first();
      if (!found) return null;
      const deleted = await db<OAuthStateRow>('oauth_states').where('id', id).delete();
      return deleted > 0 ? (found as OAuthStateRow) : null;
    });
    return row ? this.toState(row) : null;
  }

  async deleteExpired(now: Date): Promise<number> {
    const before = this.codec.date(now);
    return this.writes.runStatement<number>((db) => db<OAuthStateRow>('oauth_states').where('expires_at', '<', before).delete());
  }

  private toRow(state: OAuthState): OAuthStateRow {
    const { codec } = this;
    const v = state.codeVerifier;
    return {
      id: state.id,
      user_id: state.userId,
      provider: state.provider,
      verifier_key_id: v?.keyId ?? null,
      verifier_nonce: v?.nonce ?? null,
      verifier_ciphertext: v?.ciphertext ?? null,
      verifier_tag: v?.tag ?? null,
      redirect_uri: state.redirectUri,
      scopes: codec.json(state.scopes),
      expires_at: codec.date(state.expiresAt),
      created_at: codec.date(state.createdAt),
    };
  }

  private toState(row: OAuthStateRow): OAuthState {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      provider: row.provider,
      codeVerifier:
        row.verifier_key_id !== null
          ? { keyId: row.verifier_key_id, nonce: row.verifier_nonce ?? '', ciphertext: row.verifier_ciphertext ?? '', tag: row.verifier_tag ?? '' }
          : null,
      redirectUri: row.redirect_uri,
      scopes: codec.readJson<string[]>(row.scopes),
      expiresAt: codec.readDate(row.expires_at),
      createdAt: codec.readDate(row.created_at),
    };
  }
}
