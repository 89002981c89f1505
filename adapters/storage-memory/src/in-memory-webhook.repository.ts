import { ConflictError, NotFoundError, type EncryptedSecret, type WebhookDeliveryRecord, type WebhookRegistration, type WebhookRepository } from '@blockyard/core';

/** Webhook registrations and their deliveries in Maps. Stores and returns copies. */
export class InMemoryWebhookRepository implements WebhookRepository {
  private readonly byId = new Map<string, WebhookRegistration>();
  /** webhook id -> delivery id -> record */
  private readonly deliveries = new Map<string, Map<string, WebhookDeliveryRecord>>();

  async create(registration: WebhookRegistration): Promise<void> {
    if (this.byId.has(registration.id)) throw new ConflictError(`webhook ${registration.id} already exists`);
    if (this.findByAgent(registration.agentId)) throw new ConflictError(`agent ${registration.agentId} already has a webhook`);
    this.byId.set(registration.id, structuredClone(registration));
  }

  async get(id: string): Promise<WebhookRegistration | null> {
    const registration = this.byId.get(id);
    return registration ? structuredClone(registration) : null;
  }

  async getByAgent(agentId: string): Promise<WebhookRegistration | null> {
    const registration = this.findByAgent(agentId);
    return registration ? structuredClone(registration) : null;
  }

  async markActive(id: string, externalId: string | null, at: Date): Promise<boolean> {
    const stored = this.byId.get(id);
    if (!stored || stored.status !== 'registering') return false;
    this.byId.set(id, { ...stored, status: 'active', externalId, updatedAt: new Date(at.getTime()) });
    return true;
  }

  async updateSecret(id: string, secret: EncryptedSecret, expected: EncryptedSecret): Promise<boolean> {
    const stored = this.byId.get(id);
    if (!stored || !sameSecret(stored.secret, expected)) return false;
    this.byId.set(id, { ...stored, secret: { ...secret } });
    return true;
  }

  async listAll(afterId: string | null, limit: number): Promise<WebhookRegistration[]> {
    if (limit <= 0) return [];
    return [...this.byId.keys()]
      .filter((id) => afterId === null || id > afterId)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map((id) => structuredClone(this.byId.get(id)!));
  }

  async delete(id: string): Promise<boolean> {
    this.deliveries.delete(id);
    return this.byId.delete(id);
  }

  async recordDelivery(record: Omit<WebhookDeliveryRecord, 'executionId'>): Promise<boolean> {
    if (!this.byId.has(record.webhookId)) throw new NotFoundError(`webhook ${record.webhookId} not found`);
    let received = this.deliveries.get(record.webhookId);
    if (!received) this.deliveries.set(record.webhookId, (received = new Map()));
    if (received.has(record.deliveryId)) return false;
    received.set(record.deliveryId, { ...structuredClone(record), executionId: null });
    return true;
  }

  async getDelivery(webhookId: string, deliveryId: string): Promise<WebhookDeliveryRecord | null> {
    const record = this.deliveries.get(webhookId)?.get(deliveryId);
    return record ? structuredClone(record) : null;
  }

  async setDeliveryExecution(webhookId: string, deliveryId: string, executionId: string): Promise<boolean> {
    const received = this.deliveries.get(webhookId);
    const record = received?.get(deliveryId);
    if (!received || !record) return false;
    received.set(deliveryId, { ...record, executionId });
    return true;
  }

  async deleteDelivery(webhookId: string, deliveryId: string): Promise<boolean> {
    return this.deliveries.get(webhookId)?.delete(deliveryId) ?? false;
  }

  async pruneDeliveries(before: Date): Promise<number> {
    let pruned = 0;
    for (const received of this.deliveries.values()) {
      for (const [deliveryId, record] of received) {
        if (record.receivedAt.getTime() < before.getTime()) {
          received.delete(deliveryId);
          pruned++;
        }
      }
    }
    return pruned;
  }

  private findByAgent(agentId: string): WebhookRegistration | undefined {
    for (const registration of this.byId.values()) if (registration.agentId === agentId) return registration;
    return undefined;
  }
}

function sameSecret(a: EncryptedSecret, b: EncryptedSecret): boolean {
  return a.keyId === b.keyId && a.nonce === b.nonce && a.ciphertext === b.ciphertext && a.tag === b.tag;
}
