import type { Credential, CredentialKind, CredentialRepository, CredentialStatus } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface CredentialRow {
  id: string;
  user_id: string;
  provider: string;
  kind: CredentialKind;
  title: string;
  /** JSON array of integration scopes. */
  scopes: unknown;
  status: CredentialStatus;
  expires_at: DbDate | null;
  secret_key_id: string;
  secret_nonce: string;
  secret_ciphertext: string;
  secret_tag: string;
  created_at: DbDate;
  updated_at: DbDate;
}

/** Credentials in the `credentials` table, the secret kept sealed; `update` is a compare-and-set on updated_at. */
export class KnexCredentialRepository implements CredentialRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(credential: Credential): Promise<void> {
    const row = this.toRow(credential);
    await this.writes.runStatement((db) => db<CredentialRow>('credentials').insert(row)).catch((error: unknown) =>
      rethrowUniqueViolation(error, () => `credential ${credential.id} already exists`),
    );
  }

  async get(id: string): Promise<Credential | null> {
    const row = await this.reads.first<CredentialRow>(this.reads.knex<CredentialRow>('credentials').where('id', id));
    return row ? this.toCredential(row) : null;
  }

  async listByUser(userId: string): Promise<Credential[]> {
    const rows = await this.reads.all<CredentialRow>(this.reads.knex<CredentialRow>('credentials')
      .where('user_id', userId)
      .orderBy([{ column: 'created_at' }, { column: 'id' }]));
    return rows.map((row) => this.toCredential(row));
  }

  async update(credential: Credential, expectedUpdatedAt: Date): Promise<boolean> {
    const { id: _id, ...changes } = this.toRow(credential);
    const expected = this.codec.date(expectedUpdatedAt);
    const changed = await this.writes.runStatement<number>((db) =>
      db<CredentialRow>('credentials').where({ id: credential.id, updated_at: expected }).update(changes),
    );
    return changed > 0;
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.writes.runStatement<number>((db) => db<CredentialRow>('credentials').where('id', id).delete());
    return deleted > 0;
  }

  async listAll(afterId: string | null, limit: number): Promise<Credential[]> {
    if (limit <= 0) return [];
    const query = this.reads.knex<CredentialRow>('credentials').orderBy('id').limit(limit);
    if (afterId !== null) query.where('id', '>', afterId);
    const rows = await this.reads.all<CredentialRow>(query);
    return rows.map((row) => this.toCredential(row));
  }

  private toRow(credential: Credential): CredentialRow {
    const { codec } = this;
    return {
      id: credential.id,
      user_id: credential.userId,
      provider: credential.provider,
      kind: credential.kind,
      title: credential.title,
      scopes: codec.json(credential.scopes),
      status: credential.status,
      expires_at: codec.nullableDate(credential.expiresAt),
      secret_key_id: credential.secret.keyId,
      secret_nonce: credential.secret.nonce,
      secret_ciphertext: credential.secret.ciphertext,
      secret_tag: credential.secret.tag,
      created_at: codec.date(credential.createdAt),
      updated_at: codec.date(credential.updatedAt),
    };
  }

  private toCredential(row: CredentialRow): Credential {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      provider: row.provider,
      kind: row.kind,
      title: row.title,
      scopes: codec.readJson<string[]>(row.scopes),
      status: row.status,
      expiresAt: codec.readNullableDate(row.expires_at),
      secret: {
        keyId: row.secret_key_id,
        nonce: row.secret_nonce,
        ciphertext: row.secret_ciphertext,
        tag: row.secret_tag,
      },
      createdAt: codec.readDate(row.created_at),
      updatedAt: codec.readDate(row.updated_at),
    };
  }
}
