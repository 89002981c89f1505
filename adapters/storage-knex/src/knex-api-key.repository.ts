import type { ApiKey, ApiKeyRepository, ApiKeyScope } from '@blockyard/core';
import type { Knex } from 'knex';
import type { DbDate, RowCodec } from './row-codec.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { ReadRunner } from './read-runner.js';
import type { WriteRunner } from './write-runner.js';

interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  hash: string;
  /** JSON array of scope names. */
  scopes: unknown;
  created_at: DbDate;
  last_used_at: DbDate | null;
  expires_at: DbDate | null;
  revoked_at: DbDate | null;
}

/** API keys in the `api_keys` table; `hash` is unique. */
export class KnexApiKeyRepository implements ApiKeyRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(key: ApiKey): Promise<void> {
    const { codec } = this;
    const row: ApiKeyRow = {
      id: key.id,
      user_id: key.userId,
      name: key.name,
      prefix: key.prefix,
      hash: key.hash,
      scopes: codec.json(key.scopes),
      created_at: codec.date(key.createdAt),
      last_used_at: codec.nullableDate(key.lastUsedAt),
      expires_at: codec.nullableDate(key.expiresAt),
      revoked_at: codec.nullableDate(key.revokedAt),
    };
    await this.writes.runStatement((db) => db<ApiKeyRow>('api_keys').insert(row)).catch((error: unknown) =>
      rethrowUniqueViolation(error, (column) =>
        column === 'hash' ? 'an API key with this hash already exists' : `API key ${key.id} already exists`,
      ),
    );
  }

  async get(id: string): Promise<ApiKey | null> {
    const row = await this.reads.first<ApiKeyRow>(this.reads.knex<ApiKeyRow>('api_keys').where('id', id));
    return row ? this.toApiKey(row) : null;
  }

  async findByHash(hash: string): Promise<ApiKey | null> {
    const row = await this.reads.first<ApiKeyRow>(this.reads.knex<ApiKeyRow>('api_keys').where('hash', hash));
    return row ? this.toApiKey(row) : null;
  }

  async listByUser(userId: string): Promise<ApiKey[]> {
    const rows = await this.reads.all<ApiKeyRow>(this.reads.knex<ApiKeyRow>('api_keys')
      .where('user_id', userId)
      .orderBy([{ column: 'created_at' }, { column: 'id' }]));
    return rows.map((row) => this.toApiKey(row));
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    const revokedAt = this.codec.date(at);
    const changed = await this.writes.runStatement<number>((db) => db<ApiKeyRow>('api_keys').where('id', id).update({ revoked_at: revokedAt }));
    return changed > 0;
  }

  async touch(id: string, at: Date): Promise<void> {
    const lastUsedAt = this.codec.date(at);
    await this.writes.runStatement((db) => db<ApiKeyRow>('api_keys').where('id', id).update({ last_used_at: lastUsedAt }));
  }

  private toApiKey(row: ApiKeyRow): ApiKey {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      name: row.name,
      prefix: row.prefix,
      hash: row.hash,
      scopes: codec.readJson<ApiKeyScope[]>(row.scopes),
      createdAt: codec.readDate(row.created_at),
      lastUsedAt: codec.readNullableDate(row.last_used_at),
      expiresAt: codec.readNullableDate(row.expires_at),
      revokedAt: codec.readNullableDate(row.revoked_at),
    };
  }
}
