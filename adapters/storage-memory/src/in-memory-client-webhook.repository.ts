import { randomUUID } from 'node:crypto';
import {
  CLIENT_WEBHOOK_TARGET_STAGES,
  ConflictError,
  type ClaimedClientWebhookDelivery,
  type ClientWebhookClaim,
  type ClientWebhookAttemptResult,
  type ClientWebhookDelivery,
  type ClientWebhookDeliveryQuery,
  type ClientWebhookEndpoint,
  type ClientWebhookRepository,
  type ClientWebhookTarget,
  type ClientWebhookTargetStage,
} from '@blockyard/core';

interface StoredDelivery {
  delivery: ClientWebhookDelivery;
  leaseToken: string | null;
  leaseUntil: Date | null;
}

/** The client webhook outbox in Maps. Stores and returns copies; every change is atomic (one event-loop turn). */
export class InMemoryClientWebhookRepository implements ClientWebhookRepository {
  private readonly deliveries = new Map<string, StoredDelivery>();
  private readonly endpoints = new Map<string, ClientWebhookEndpoint>();
  private readonly targets = new Map<string, ClientWebhookTarget>();

  async enqueue(delivery: ClientWebhookDelivery, claim?: ClientWebhookClaim): Promise<boolean> {
    if (this.deliveries.has(delivery.id)) return false;
    this.deliveries.set(delivery.id, { delivery: structuredClone(delivery), leaseToken: claim?.leaseToken ?? null, leaseUntil: claim ? new Date(claim.leaseUntil) : null });
    return true;
  }

  async enqueueMany(deliveries: readonly ClientWebhookDelivery[]): Promise<void> {
    for (const delivery of deliveries) {
      if (!this.deliveries.has(delivery.id)) this.deliveries.set(delivery.id, { delivery: structuredClone(delivery), leaseToken: null, leaseUntil: null });
    }
  }

  async get(id: string): Promise<ClientWebhookDelivery | null> {
    const stored = this.deliveries.get(id);
    return stored ? structuredClone(stored.delivery) : null;
  }

  async claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedClientWebhookDelivery[]> {
    if (limit <= 0) return [];
    const due = [...this.deliveries.values()]
      .filter((s) => s.delivery.status === 'pending' && s.delivery.nextAttemptAt !== null && s.delivery.nextAttemptAt <= now && (s.leaseUntil === null || s.leaseUntil <= now))
      .sort((a, b) => a.delivery.nextAttemptAt!.getTime() - b.delivery.nextAttemptAt!.getTime() || compare(a.delivery.id, b.delivery.id))
      .slice(0, limit);
    return due.map((s) => {
      s.leaseToken = randomUUID();
      s.leaseUntil = new Date(leaseUntil);
      return { delivery: structuredClone(s.delivery), leaseToken: s.leaseToken, leaseUntil: new Date(leaseUntil) };
    });
  }

  async recordAttempt(id: string, leaseToken: string, result: ClientWebhookAttemptResult): Promise<boolean> {
    const stored = this.deliveries.get(id);
    if (!stored || stored.leaseToken !== leaseToken || stored.delivery.status !== 'pending') return false;
    stored.delivery = { ...stored.delivery, ...structuredClone(result) };
    stored.leaseToken = null;
    stored.leaseUntil = null;
    return true;
  }

  async listByClient(clientId: string, query: ClientWebhookDeliveryQuery): Promise<ClientWebhookDelivery[]> {
    const before = query.before;
    return [...this.deliveries.values()]
      .map((s) => s.delivery)
      .filter((d) => d.clientId === clientId && (query.status === undefined || d.status === query.status))
      .filter((d) => !before || d.createdAt < before.createdAt || (d.createdAt.getTime() === before.createdAt.getTime() && d.id < before.id))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compare(b.id, a.id))
      .slice(0, Math.max(0, query.limit))
      .map((d) => structuredClone(d));
  }

  async deleteByClient(clientId: string): Promise<number> {
    let deleted = 0;
    for (const [id, s] of this.deliveries) {
      if (s.delivery.clientId !== clientId) continue;
      this.deliveries.delete(id);
      deleted++;
    }
    for (const [key, e] of this.endpoints) if (e.clientId === clientId) this.endpoints.delete(key);
    for (const [id, t] of this.targets) if (t.clientId === clientId) this.targets.delete(id);
    return deleted;
  }

  async pruneSettled(before: Date): Promise<number> {
    let pruned = 0;
    for (const [id, s] of this.deliveries) {
      if (s.delivery.status === 'pending' || s.delivery.updatedAt >= before) continue;
      this.deliveries.delete(id);
      pruned++;
    }
    for (const [id, t] of this.targets) if (t.stage === 'finished' && t.createdAt < before) this.targets.delete(id);
    return pruned;
  }

  async useEndpoint(clientId: string, url: string, at: Date): Promise<void> {
    this.endpoints.set(endpointKey(clientId, url), { clientId, url, lastUsedAt: new Date(at), disabledAt: null });
  }

  async getEndpoint(clientId: string, url: string): Promise<ClientWebhookEndpoint | null> {
    const endpoint = this.endpoints.get(endpointKey(clientId, url));
    return endpoint ? structuredClone(endpoint) : null;
  }

  async disableEndpoint(clientId: string, url: string, at: Date): Promise<number> {
    const current = this.endpoints.get(endpointKey(clientId, url));
    this.endpoints.set(endpointKey(clientId, url), { clientId, url, lastUsedAt: current?.lastUsedAt ?? new Date(at), disabledAt: current?.disabledAt ?? new Date(at) });
    let disabled = 0;
    for (const s of this.deliveries.values()) {
      const d = s.delivery;
      if (d.clientId !== clientId || d.url !== url || d.status !== 'pending' || (s.leaseUntil !== null && s.leaseUntil > at)) continue;
      s.delivery = { ...d, status: 'disabled', nextAttemptAt: null, lastError: 'not sent: the endpoint answered 410 Gone and is disabled', updatedAt: new Date(at) };
      s.leaseToken = null;
      s.leaseUntil = null;
      disabled++;
    }
    return disabled;
  }

  async listEndpoints(clientId: string, limit: number): Promise<ClientWebhookEndpoint[]> {
    return [...this.endpoints.values()]
      .filter((e) => e.clientId === clientId)
      .sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime() || compare(a.url, b.url))
      .slice(0, Math.max(0, limit))
      .map((e) => structuredClone(e));
  }

  async recordTarget(target: ClientWebhookTarget): Promise<void> {
    if (this.targets.has(target.executionId)) throw new ConflictError(`execution ${target.executionId} already has a webhook target`);
    this.targets.set(target.executionId, structuredClone(target));
  }

  async getTarget(executionId: string): Promise<ClientWebhookTarget | null> {
    const target = this.targets.get(executionId);
    return target ? structuredClone(target) : null;
  }

  async advanceTarget(executionId: string, stage: ClientWebhookTargetStage): Promise<boolean> {
    return this.advance(executionId, stage);
  }

  async advanceTargets(executionIds: readonly string[], stage: ClientWebhookTargetStage): Promise<number> {
    let advanced = 0;
    for (const executionId of new Set(executionIds)) if (this.advance(executionId, stage)) advanced++;
    return advanced;
  }

  private advance(executionId: string, stage: ClientWebhookTargetStage): boolean {
    const target = this.targets.get(executionId);
    if (!target || CLIENT_WEBHOOK_TARGET_STAGES.indexOf(target.stage) >= CLIENT_WEBHOOK_TARGET_STAGES.indexOf(stage)) return false;
    this.targets.set(executionId, { ...target, stage });
    return true;
  }

  async listUnfinishedTargets(createdBefore: Date, afterExecutionId: string | null, limit: number): Promise<ClientWebhookTarget[]> {
    return [...this.targets.values()]
      .filter((t) => t.stage !== 'finished' && t.createdAt < createdBefore && (afterExecutionId === null || t.executionId > afterExecutionId))
      .sort((a, b) => compare(a.executionId, b.executionId))
      .slice(0, Math.max(0, limit))
      .map((t) => structuredClone(t));
  }
}

function endpointKey(clientId: string, url: string): string {
  return `${clientId}\n${url}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
