import type { OAuthArtifact, OAuthArtifactStore } from '@blockyard/core';
import type { Knex } from 'knex';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface OAuthArtifactRow {
  model: string;
  id: string;
  /** JSON object. */
  payload: unknown;
  grant_id: string | null;
  client_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: DbDate | null;
  consumed_at: DbDate | null;
}

/**
 * The authorization server's artifacts in `oauth_artifacts`, keyed by (model, id). `consume`
 * is one conditional UPDATE (`consumed_at IS NULL`), so of concurrent consumers one wins.
 */
export class KnexOAuthArtifactStore implements OAuthArtifactStore {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async upsert(artifact: OAuthArtifact): Promise<void> {
    const row = this.toRow(artifact);
    await this.writes.runStatement((db) => db<OAuthArtifactRow>('oauth_artifacts').insert(row).onConflict(['model', 'id']).merge());
  }

  async find(model: string, id: string): Promise<OAuthArtifact | null> {
    return this.first(this.reads.knex<OAuthArtifactRow>('oauth_artifacts').where({ model, id }));
  }

  async findByUserCode(model: string, userCode: string): Promise<OAuthArtifact | null> {
    return this.first(this.reads.knex<OAuthArtifactRow>('oauth_artifacts').where({ model, user_code: userCode }));
  }

  async findByUid(model: string, uid: string): Promise<OAuthArtifact | null> {
    return this.first(this.reads.knex<OAuthArtifactRow>('oauth_artifacts').where({ model, uid }));
  }

  async consume(model: string, id: string, at: Date): Promise<boolean> {
    const consumedAt = this.codec.date(at);
    const changed = await this.writes.runCounted((db) => db<OAuthArtifactRow>('oauth_artifacts').where({ model, id }).whereNull('consumed_at').update({ consumed_at: consumedAt }));
    return changed > 0;
  }

  async destroy(model: string, id: string): Promise<boolean> {
    const deleted = await this.writes.runCounted((db) => db<OAuthArtifactRow>('oauth_artifacts').where({ model, id }).delete());
    return deleted > 0;
  }

  revokeByGrantId(model: string, grantId: string): Promise<number> {
    return this.writes.runCounted((db) => db<OAuthArtifactRow>('oauth_artifacts').where({ model, grant_id: grantId }).delete());
  }

  revokeByClientId(clientId: string): Promise<number> {
    return this.writes.runCounted((db) => db<OAuthArtifactRow>('oauth_artifacts').where({ client_id: clientId }).delete());
  }

  deleteExpired(before: Date): Promise<number> {
    const at = this.codec.date(before);
    return this.writes.runCounted((db) => db<OAuthArtifactRow>('oauth_artifacts').where('expires_at', '<', at).delete());
  }

  private async first(query: Knex.QueryBuilder): Promise<OAuthArtifact | null> {
    const row = await this.reads.first<OAuthArtifactRow>(query);
    return row ? this.toArtifact(row) : null;
  }

  private toRow(a: OAuthArtifact): OAuthArtifactRow {
    const { codec } = this;
    return {
      model: a.model,
      id: a.id,
      payload: codec.json(a.payload),
      grant_id: a.grantId,
      client_id: a.clientId,
      user_code: a.userCode,
      uid: a.uid,
      expires_at: codec.nullableDate(a.expiresAt),
      consumed_at: codec.nullableDate(a.consumedAt),
    };
  }

  private toArtifact(row: OAuthArtifactRow): OAuthArtifact {
    const { codec } = this;
    return {
      model: row.model,
      id: row.id,
      payload: codec.readJson<Record<string, unknown>>(row.payload),
      grantId: row.grant_id,
      clientId: row.client_id,
      userCode: row.user_code,
      uid: row.uid,
      expiresAt: codec.readNullableDate(row.expires_at),
      consumedAt: codec.readNullableDate(row.consumed_at),
    };
  }
}
