import type { ClaimedClientWebhookDelivery, ClientWebhookAttemptResult, ClientWebhookDelivery, ClientWebhookEndpoint, ClientWebhookTarget, ClientWebhookTargetStage } from './client-webhook-delivery.js';
import type { ClientWebhookClaim, ClientWebhookDeliveryQuery, ClientWebhookRepository } from './client-webhook.repository.port.js';

export interface ClientWebhookCacheOptions {
  /** How long an endpoint's state read from storage is reused. 0 turns caching off. Default 1000 ms. */
  endpointTtlMs?: number;
  /** How long a target is kept after this process stored or read it. Default 10 minutes. */
  targetTtlMs?: number;
  /** Most entries of each kind. Default 10,000. */
  maxEntries?: number;
  /** Milliseconds now. Default Date.now. */
  now?: () => number;
}

/**
 * The outbox as the webhook service and dispatcher of one process use it, sparing the reads
 * every event would make:
 *
 * - an endpoint's state (its 410 switch) is reused for `endpointTtlMs`; this process's own
 *   writes (use, disable, a client's deletion) drop it at once, another process's 410 is seen
 *   within `endpointTtlMs` (until then a delivery may still go to it, and be told 410 again);
 * - a target stored or read here is kept (its client and URL never change), its stage moved
 *   forward by this process's own advances; so is the absence of one (an execution's target is
 *   stored before it is queued, and asked for only once it runs). A stage another process advanced is seen late, which
 *   only means an event is enqueued again, and enqueueing is idempotent per event.
 *
 * Everything else goes straight to storage.
 */
export class CachingClientWebhookRepository implements ClientWebhookRepository {
  readonly #endpointTtlMs: number;
  readonly #targetTtlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #endpoints = new Map<string, { endpoint: ClientWebhookEndpoint | null; until: number }>();
  readonly #targets = new Map<string, { target: ClientWebhookTarget | null; until: number }>();
  #generation = 0;

  constructor(
    private readonly inner: ClientWebhookRepository,
    options: ClientWebhookCacheOptions = {},
  ) {
    this.#endpointTtlMs = Math.max(0, options.endpointTtlMs ?? 1000);
    this.#targetTtlMs = Math.max(0, options.targetTtlMs ?? 600_000);
    this.#maxEntries = Math.max(1, options.maxEntries ?? 10_000);
    this.#now = options.now ?? Date.now;
  }

  enqueue(delivery: ClientWebhookDelivery, claim?: ClientWebhookClaim): Promise<boolean> {
    return this.inner.enqueue(delivery, claim);
  }

  enqueueMany(deliveries: readonly ClientWebhookDelivery[]): Promise<void> {
    return this.inner.enqueueMany(deliveries);
  }

  get(id: string): Promise<ClientWebhookDelivery | null> {
    return this.inner.get(id);
  }

  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<ClaimedClientWebhookDelivery[]> {
    return this.inner.claimDue(now, leaseUntil, limit);
  }

  recordAttempt(id: string, leaseToken: string, result: ClientWebhookAttemptResult): Promise<boolean> {
    return this.inner.recordAttempt(id, leaseToken, result);
  }

  listByClient(clientId: string, query: ClientWebhookDeliveryQuery): Promise<ClientWebhookDelivery[]> {
    return this.inner.listByClient(clientId, query);
  }

  async deleteByClient(clientId: string): Promise<number> {
    this.#clear();
    try {
      return await this.inner.deleteByClient(clientId);
    } finally {
      this.#clear();
    }
  }

  pruneSettled(before: Date): Promise<number> {
    return this.inner.pruneSettled(before);
  }

  async useEndpoint(clientId: string, url: string, at: Date): Promise<void> {
    await this.#endpointWrite(clientId, url, () => this.inner.useEndpoint(clientId, url, at));
  }

  async getEndpoint(clientId: string, url: string): Promise<ClientWebhookEndpoint | null> {
    const key = endpointKey(clientId, url);
    const now = this.#now();
    const cached = this.#endpoints.get(key);
    if (cached && cached.until > now) return cached.endpoint;
    const generation = this.#generation;
    const endpoint = await this.inner.getEndpoint(clientId, url);
    if (this.#endpointTtlMs > 0 && generation === this.#generation) put(this.#endpoints, key, { endpoint, until: now + this.#endpointTtlMs }, this.#maxEntries);
    return endpoint;
  }

  disableEndpoint(clientId: string, url: string, at: Date): Promise<number> {
    return this.#endpointWrite(clientId, url, () => this.inner.disableEndpoint(clientId, url, at));
  }

  listEndpoints(clientId: string, limit: number): Promise<ClientWebhookEndpoint[]> {
    return this.inner.listEndpoints(clientId, limit);
  }

  async recordTarget(target: ClientWebhookTarget): Promise<void> {
    await this.inner.recordTarget(target);
    this.#keepTarget(target);
  }

  async getTarget(executionId: string): Promise<ClientWebhookTarget | null> {
    const cached = this.#targets.get(executionId);
    if (cached && cached.until > this.#now()) return cached.target;
    const generation = this.#generation;
    const target = await this.inner.getTarget(executionId);
    if (generation !== this.#generation) return target;
    if (target) this.#keepTarget(target);
    // An execution without a target never gets one (it is stored before the execution is
    // queued, and asked for only once it runs): its other events need not ask storage again.
    else if (this.#targetTtlMs > 0) put(this.#targets, executionId, { target: null, until: this.#now() + this.#targetTtlMs }, this.#maxEntries);
    return target;
  }

  async advanceTarget(executionId: string, stage: ClientWebhookTargetStage): Promise<boolean> {
    const advanced = await this.inner.advanceTarget(executionId, stage);
    this.#advanced(executionId, stage);
    return advanced;
  }

  async advanceTargets(executionIds: readonly string[], stage: ClientWebhookTargetStage): Promise<number> {
    const advanced = await this.inner.advanceTargets(executionIds, stage);
    for (const executionId of executionIds) this.#advanced(executionId, stage);
    return advanced;
  }

  listUnfinishedTargets(createdBefore: Date, afterExecutionId: string | null, limit: number): Promise<ClientWebhookTarget[]> {
    return this.inner.listUnfinishedTargets(createdBefore, afterExecutionId, limit);
  }

  /** The cached target after an advance to `stage` answered (that call moved it, or another got there first). */
  #advanced(executionId: string, stage: ClientWebhookTargetStage): void {
    const cached = this.#targets.get(executionId);
    if (!cached?.target) return;
    // It is at `stage` or beyond now.
    if (stage === 'finished') this.#targets.delete(executionId);
    else if (cached.target.stage === 'none') cached.target = { ...cached.target, stage };
  }

  #keepTarget(target: ClientWebhookTarget): void {
    if (this.#targetTtlMs > 0 && target.stage !== 'finished') put(this.#targets, target.executionId, { target, until: this.#now() + this.#targetTtlMs }, this.#maxEntries);
  }

  async #endpointWrite<T>(clientId: string, url: string, write: () => Promise<T>): Promise<T> {
    const key = endpointKey(clientId, url);
    this.#generation++;
    this.#endpoints.delete(key);
    try {
      return await write();
    } finally {
      this.#generation++;
      this.#endpoints.delete(key);
    }
  }

  #clear(): void {
    this.#generation++;
    this.#endpoints.clear();
    this.#targets.clear();
  }
}

function endpointKey(clientId: string, url: string): string {
  return `${clientId}\n${url}`;
}

function put<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(key, value);
}
