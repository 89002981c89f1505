import type { OAuthClient, OAuthClientPatch, OAuthClientRepository, OAuthClientType } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { WriteRunner } from './write-runner.js';

interface OAuthClientRow {
  id: string;
  user_id: string;
  name: string;
  description: string;
  client_type: OAuthClientType;
  secret_hash: string | null;
  /** JSON array of strings. */
  redirect_uris: unknown;
  /** JSON array of strings. */
  webhook_domains: unknown;
  /** JSON array of strings, the scope allow-list; null: every scope. */
  scopes: unknown;
  webhook_secret_key_id: string;
  webhook_secret_nonce: string;
  webhook_secret_ciphertext: string;
  webhook_secret_tag: string;
  created_at: DbDate;
  updated_at: DbDate;
  disabled_at: DbDate | null;
}

/** Third-party apps in `oauth_clients`; an update writes the patched columns only. */
export class KnexOAuthClientRepository implements OAuthClientRepository {
  constructor(
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(client: OAuthClient): Promise<void> {
    const row = this.toRow(client);
    await this.writes.runStatement((db) => db<OAuthClientRow>('oauth_clients').insert(row)).catch((error: unknown) =>
      rethrowUniqueViolation(error, () => `OAuth client ${client.id} already exists`),
    );
  }

  async get(id: string): Promise<OAuthClient | null> {
    const row = await this.reads.first<OAuthClientRow>(this.reads.knex<OAuthClientRow>('oauth_clients').where('id', id));
    return row ? this.toClient(row) : null;
  }

  async listByUser(userId: string): Promise<OAuthClient[]> {
    const rows = await this.reads.all<OAuthClientRow>(
      this.reads.knex<OAuthClientRow>('oauth_clients').where('user_id', userId).orderBy([{ column: 'created_at' }, { column: 'id' }]),
    );
    return rows.map((row) => this.toClient(row));
  }

  async update(id: string, patch: OAuthClientPatch): Promise<OAuthClient | null> {
    const { codec } = this;
    const changes: Partial<OAuthClientRow> = { updated_at: codec.date(patch.updatedAt) };
    if (patch.name !== undefined) changes.name = patch.name;
    if (patch.description !== undefined) changes.description = patch.description;
    if (patch.secretHash !== undefined) changes.secret_hash = patch.secretHash;
    if (patch.redirectUris !== undefined) changes.redirect_uris = codec.json(patch.redirectUris);
    if (patch.webhookDomains !== undefined) changes.webhook_domains = codec.json(patch.webhookDomains);
    if (patch.scopes !== undefined) changes.scopes = patch.scopes === null ? null : codec.json(patch.scopes);
    if (patch.webhookSecret !== undefined) {
      changes.webhook_secret_key_id = patch.webhookSecret.keyId;
      changes.webhook_secret_nonce = patch.webhookSecret.nonce;
      changes.webhook_secret_ciphertext = patch.webhookSecret.ciphertext;
      changes.webhook_secret_tag = patch.webhookSecret.tag;
    }
    if (patch.disabledAt !== undefined) changes.disabled_at = codec.nullableDate(patch.disabledAt);
    const row = await this.writes.run(async (db) => {
      const changed = await db<OAuthClientRow>('oauth_clients').where('id', id).update(changes);
      if (!changed) return null;
      return (await db<OAuthClientRow>('oauth_clients').where('id', id).first()) as OAuthClientRow | undefined;
    });
    return row ? this.toClient(row) : null;
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.writes.runStatement<number>((db) => db<OAuthClientRow>('oauth_clients').where('id', id).delete());
    return deleted > 0;
  }

  private toRow(client: OAuthClient): OAuthClientRow {
    const { codec } = this;
    return {
      id: client.id,
      user_id: client.userId,
      name: client.name,
      description: client.description,
      client_type: client.type,
      secret_hash: client.secretHash,
      redirect_uris: codec.json(client.redirectUris),
      webhook_domains: codec.json(client.webhookDomains),
      scopes: client.scopes ? codec.json(client.scopes) : null,
      webhook_secret_key_id: client.webhookSecret.keyId,
      webhook_secret_nonce: client.webhookSecret.nonce,
      webhook_secret_ciphertext: client.webhookSecret.ciphertext,
      webhook_secret_tag: client.webhookSecret.tag,
      created_at: codec.date(client.createdAt),
      updated_at: codec.date(client.updatedAt),
      disabled_at: codec.nullableDate(client.disabledAt),
    };
  }

  private toClient(row: OAuthClientRow): OAuthClient {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      name: row.name,
      description: row.description,
      type: row.client_type,
      secretHash: row.secret_hash,
      redirectUris: codec.readJson<string[]>(row.redirect_uris),
      webhookDomains: codec.readJson<string[]>(row.webhook_domains),
      ...(row.scopes === null || row.scopes === undefined ? {} : { scopes: codec.readJson<string[]>(row.scopes) }),
      webhookSecret: { keyId: row.webhook_secret_key_id, nonce: row.webhook_secret_nonce, ciphertext: row.webhook_secret_ciphertext, tag: row.webhook_secret_tag },
      createdAt: codec.readDate(row.created_at),
      updatedAt: codec.readDate(row.updated_at),
      disabledAt: codec.readNullableDate(row.disabled_at),
    };
  }
}
