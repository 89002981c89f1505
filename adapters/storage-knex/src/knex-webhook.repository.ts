import { NotFoundError, type EncryptedSecret, type WebhookDeliveryRecord, type WebhookMode, type WebhookRegistration, type WebhookRepository, type WebhookStatus } from '@blockyard/core';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { WriteRunner } from './write-runner.js';

interface WebhookRow {
  id: string;
  user_id: string;
  agent_id: string;
  trigger_node_id: string;
  block_id: string;
  provider: string;
  /** JSON array of event types. */
  events: unknown;
  mode: WebhookMode;
  secret_key_id: string;
  secret_nonce: string;
  secret_ciphertext: string;
  secret_tag: string;
  /** JSON object. */
  config: unknown;
  credential_id: string | null;
  external_id: string | null;
  status: WebhookStatus;
  created_at: DbDate;
  updated_at: DbDate;
}

interface DeliveryRow {
  webhook_id: string;
  delivery_id: string;
  event_type: string;
  execution_id: string | null;
  received_at: DbDate;
}

/** Delivery records removed per statement when pruning, so that no one statement holds the writer long. */
const PRUNE_BATCH = 1000;

/**
 * Webhook registrations in `webhooks` (agent_id unique: one per agent; the secret kept sealed)
 * and received deliveries in `webhook_deliveries`, whose primary key (webhook_id, delivery_id)
 * makes recording a delivery a compare-and-set: INSERT ... ON CONFLICT DO NOTHING.
 */
export class KnexWebhookRepository implements WebhookRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(registration: WebhookRegistration): Promise<void> {
    const row = this.toRow(registration);
    await this.writes
      .runStatement((db) => db<WebhookRow>('webhooks').insert(row))
      .catch((error: unknown) =>
        rethrowUniqueViolation(error, (column) => (column === 'agent_id' ? `agent ${registration.agentId} already has a webhook` : `webhook ${registration.id} already exists`)),
      );
  }

  async get(id: string): Promise<WebhookRegistration | null> {
    const row = await this.reads.first<WebhookRow>(this.reads.knex<WebhookRow>('webhooks').where('id', id));
    return row ? this.toRegistration(row) : null;
  }

  async getByAgent(agentId: string): Promise<WebhookRegistration | null> {
    const row = await this.reads.first<WebhookRow>(this.reads.knex<WebhookRow>('webhooks').where('agent_id', agentId));
    return row ? this.toRegistration(row) : null;
  }

  async markActive(id: string, externalId: string | null, at: Date): Promise<boolean> {
    const updatedAt = this.codec.date(at);
    const changed = await this.writes.runStatement<number>((db) =>
      db<WebhookRow>('webhooks').where({ id, status: 'registering' }).update({ status: 'active', external_id: externalId, updated_at: updatedAt }),
    );
    return changed > 0;
  }

  async updateSecret(id: string, secret: EncryptedSecret, expected: EncryptedSecret): Promise<boolean> {
    const changed = await this.writes.runCounted((db) =>
      db<WebhookRow>('webhooks')
        .where({ id, secret_key_id: expected.keyId, secret_nonce: expected.nonce, secret_ciphertext: expected.ciphertext, secret_tag: expected.tag })
        .update({ secret_key_id: secret.keyId, secret_nonce: secret.nonce, secret_ciphertext: secret.ciphertext, secret_tag: secret.tag }),
    );
    return changed > 0;
  }

  async listAll(afterId: string | null, limit: number): Promise<WebhookRegistration[]> {
    if (limit <= 0) return [];
    const query = this.reads.knex<WebhookRow>('webhooks').orderBy('id').limit(limit);
    if (afterId !== null) query.where('id', '>', afterId);
    const rows = await this.reads.all<WebhookRow>(query);
    return rows.map((row) => this.toRegistration(row));
  }

  async delete(id: string): Promise<boolean> {
    return this.writes.run(async (db) => {
      await db<DeliveryRow>('webhook_deliveries').where('webhook_id', id).delete();
      const deleted = await db<WebhookRow>('webhooks').where('id', id).delete();
      return deleted > 0;
    });
  }

  async recordDelivery(record: Omit<WebhookDeliveryRecord, 'executionId'>): Promise<boolean> {
    const row: DeliveryRow = {
      webhook_id: record.webhookId,
      delivery_id: record.deliveryId,
      event_type: record.eventType,
      execution_id: null,
      received_at: this.codec.date(record.receivedAt),
    };
    try {
      const inserted = await this.writes.runCounted((db) => db<DeliveryRow>('webhook_deliveries').insert(row).onConflict(['webhook_id', 'delivery_id']).ignore());
      return inserted > 0;
    } catch (error) {
      // The foreign key refuses a delivery of an unknown webhook.
      if (!(await this.get(record.webhookId))) throw new NotFoundError(`webhook ${record.webhookId} not found`);
      throw error;
    }
  }

  async getDelivery(webhookId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    const row = await this.reads.first<DeliveryRow>(this.reads.knex<DeliveryRow>('webhook_deliveries').where({ webhook_id: webhookId, delivery_id: deliveryId }));
    return row
      ? { webhookId: row.webhook_id, deliveryId: row.delivery_id, eventType: row.event_type, executionId: row.execution_id, receivedAt: this.codec.readDate(row.received_at) }
      : null;
  }

  async setDeliveryExecution(webhookId: string, deliveryId: string, executionId: string): Promise<boolean> {
    const changed = await this.writes.runStatement<number>((db) =>
      db<DeliveryRow>('webhook_deliveries').where({ webhook_id: webhookId, delivery_id: deliveryId }).update({ execution_id: executionId }),
    );
    return changed > 0;
  }

  async deleteDelivery(webhookId: string, deliveryId: string): Promise<boolean> {
    const deleted = await this.writes.runStatement<number>((db) => db<DeliveryRow>('webhook_deliveries').where({ webhook_id: webhookId, delivery_id: deliveryId }).delete());
    return deleted > 0;
  }

  async pruneDeliveries(before: Date): Promise<number> {
    const cutoff = this.codec.date(before);
    let pruned = 0;
    for (;;) {
      // Batches through the received_at index: ("webhook_id", "delivery_id") IN (the oldest few).
      const deleted = await this.writes.runCounted((db) =>
        db<DeliveryRow>('webhook_deliveries')
          .whereIn(['webhook_id', 'delivery_id'], db<DeliveryRow>('webhook_deliveries').select('webhook_id', 'delivery_id').where('received_at', '<', cutoff).limit(PRUNE_BATCH))
          .delete(),
      );
      pruned += deleted;
      if (deleted < PRUNE_BATCH) return pruned;
    }
  }

  private toRow(registration: WebhookRegistration): WebhookRow {
    const { codec } = this;
    return {
      id: registration.id,
      user_id: registration.userId,
      agent_id: registration.agentId,
      trigger_node_id: registration.triggerNodeId,
      block_id: registration.blockId,
      provider: registration.provider,
      events: codec.json(registration.events),
      mode: registration.mode,
      secret_key_id: registration.secret.keyId,
      secret_nonce: registration.secret.nonce,
      secret_ciphertext: registration.secret.ciphertext,
      secret_tag: registration.secret.tag,
      config: codec.json(registration.config),
      credential_id: registration.credentialId,
      external_id: registration.externalId,
      status: registration.status,
      created_at: codec.date(registration.createdAt),
      updated_at: codec.date(registration.updatedAt),
    };
  }

  private toRegistration(row: WebhookRow): WebhookRegistration {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      agentId: row.agent_id,
      triggerNodeId: row.trigger_node_id,
      blockId: row.block_id,
      provider: row.provider,
      events: codec.readJson<string[]>(row.events),
      mode: row.mode,
      secret: { keyId: row.secret_key_id, nonce: row.secret_nonce, ciphertext: row.secret_ciphertext, tag: row.secret_tag },
      config: codec.readJson<Record<string, unknown>>(row.config),
      credentialId: row.credential_id,
      externalId: row.external_id,
      status: row.status,
      createdAt: codec.readDate(row.created_at),
      updatedAt: codec.readDate(row.updated_at),
    };
  }
}
