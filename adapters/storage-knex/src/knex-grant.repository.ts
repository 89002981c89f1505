import type { Grant, GrantRepository } from '@blockyard/core';
import type { Knex } from 'knex';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { WriteRunner } from './write-runner.js';

interface GrantRow {
  id: string;
  user_id: string;
  client_id: string;
  credential_id: string;
  provider: string;
  /** JSON array of strings. */
  scopes: unknown;
  created_at: DbDate;
  last_used_at: DbDate | null;
  revoked_at: DbDate | null;
}

/**
 * Credential grants in `credential_grants`. Revocations are compare-and-sets on
 * `revoked_at IS NULL`, one row at a time, so that each revoked grant is answered to exactly
 * one caller (and announced once).
 */
export class KnexGrantRepository implements GrantRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(grant: Grant): Promise<void> {
    const row = this.toRow(grant);
    await this.writes.runStatement((db) => db<GrantRow>('credential_grants').insert(row)).catch((error: unknown) => rethrowUniqueViolation(error, () => `grant ${grant.id} already exists`));
  }

  async get(id: string): Promise<Grant | null> {
    const row = await this.reads.first<GrantRow>(this.reads.knex<GrantRow>('credential_grants').where('id', id));
    return row ? this.toGrant(row) : null;
  }

  async listByUser(userId: string): Promise<Grant[]> {
    const rows = await this.reads.all<GrantRow>(this.reads.knex<GrantRow>('credential_grants').where('user_id', userId).orderBy([{ column: 'created_at' }, { column: 'id' }]));
    return rows.map((row) => this.toGrant(row));
  }

  async listByUserAndClient(userId: string, clientId: string): Promise<Grant[]> {
    const rows = await this.reads.all<GrantRow>(
      this.reads.knex<GrantRow>('credential_grants').where({ user_id: userId, client_id: clientId }).orderBy([{ column: 'created_at' }, { column: 'id' }]),
    );
    return rows.map((row) => this.toGrant(row));
  }

  async revoke(id: string, at: Date): Promise<Grant | null> {
    const revokedAt = this.codec.date(at);
    const changed = await this.writes.runCounted((db) => db<GrantRow>('credential_grants').where('id', id).whereNull('revoked_at').update({ revoked_at: revokedAt }));
    if (!changed) return null;
    const grant = await this.get(id);
    // Read back on another connection: the revocation is what this call wrote.
    return grant ? { ...grant, revokedAt: new Date(at) } : null;
  }

  async revokeByClient(clientId: string, at: Date): Promise<Grant[]> {
    return this.revokeEach(this.reads.knex<GrantRow>('credential_grants').where('client_id', clientId).whereNull('revoked_at'), at);
  }

  async revokeByCredential(credentialId: string, at: Date): Promise<Grant[]> {
    return this.revokeEach(this.reads.knex<GrantRow>('credential_grants').where('credential_id', credentialId).whereNull('revoked_at'), at);
  }

  async markUsed(ids: readonly string[], at: Date): Promise<void> {
    if (!ids.length) return;
    const usedAt = this.codec.date(at);
    await this.writes.runStatement((db) =>
      db<GrantRow>('credential_grants')
        .whereIn('id', [...ids])
        .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', usedAt))
        .update({ last_used_at: usedAt }),
    );
  }

  /** Revokes the live grants the query finds, each by its own compare-and-set; answers those this call revoked. */
  private async revokeEach(query: Knex.QueryBuilder, at: Date): Promise<Grant[]> {
    const rows = await this.reads.all<GrantRow>(query.orderBy('id'));
    const revokedAt = this.codec.date(at);
    const won = await Promise.all(
      rows.map((row) => this.writes.runCounted((db) => db<GrantRow>('credential_grants').where('id', row.id).whereNull('revoked_at').update({ revoked_at: revokedAt }))),
    );
    return rows.filter((_, i) => won[i]! > 0).map((row) => ({ ...this.toGrant(row), revokedAt: new Date(at) }));
  }

  private toRow(grant: Grant): GrantRow {
    const { codec } = this;
    return {
      id: grant.id,
      user_id: grant.userId,
      client_id: grant.clientId,
      credential_id: grant.credentialId,
      provider: grant.provider,
      scopes: codec.json(grant.scopes),
      created_at: codec.date(grant.createdAt),
      last_used_at: codec.nullableDate(grant.lastUsedAt),
      revoked_at: codec.nullableDate(grant.revokedAt),
    };
  }

  private toGrant(row: GrantRow): Grant {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      clientId: row.client_id,
      credentialId: row.credential_id,
      provider: row.provider,
      scopes: codec.readJson<string[]>(row.scopes),
      createdAt: codec.readDate(row.created_at),
      lastUsedAt: codec.readNullableDate(row.last_used_at),
      revokedAt: codec.readNullableDate(row.revoked_at),
    };
  }
}
