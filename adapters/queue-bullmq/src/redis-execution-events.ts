import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { silentLogger, type ExecutionEvent, type ExecutionEvents, type Logger } from '@blockyard/core';
import { decodeEvent, encodeEvent } from './execution-codec.js';

export interface RedisExecutionEventsOptions {
  connection: RedisOptions;
  /** Channel and key prefix, e.g. `blockyard:executions`; processes that share work use the same. */
  namespace: string;
  /**
   * How long a cancel is remembered in Redis, so that a worker subscribing just after it was
   * published still hears it. Default 60 s.
   */
  cancelMemoryMs?: number;
  logger?: Logger;
}

type Listener = (event: ExecutionEvent) => void;

interface Subscription {
  readonly listeners: Set<Listener>;
  /** Cancel already delivered here: the remembered cancel is not delivered twice. */
  cancelSeen: boolean;
}

/**
 * Execution events over Redis pub/sub, one channel per execution, so that a cancel reaches the
 * worker running the execution and a finish reaches the API process waiting on it, wherever
 * they are. Listeners in the publishing process get the event synchronously from publish();
 * Redis carries it to the others, and the echo back to this process is dropped.
 *
 * Best effort, as the port says: while Redis is unreachable, events to other processes are
 * lost and storage stays the truth. A cancel is also kept briefly under a key, so that a
 * subscriber that arrives just after it (a worker starting the run) still hears it.
 */
export class RedisExecutionEvents implements ExecutionEvents {
  readonly #origin = randomUUID();
  readonly #namespace: string;
  readonly #cancelMemoryMs: number;
  readonly #logger: Logger;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #subscriptions = new Map<string, Subscription>();
  #closed = false;

  constructor(options: RedisExecutionEventsOptions) {
    this.#namespace = options.namespace;
    this.#cancelMemoryMs = options.cancelMemoryMs ?? 60_000;
    this.#logger = options.logger ?? silentLogger;
    this.#pub = new Redis({ ...options.connection, enableAutoPipelining: true, maxRetriesPerRequest: 2, connectionName: 'blockyard-events-pub' });
    this.#sub = new Redis({ ...options.connection, maxRetriesPerRequest: null, connectionName: 'blockyard-events-sub' });
    let lastError = '';
    const onError = (e: Error) => {
      if (e.message === lastError) return; // ioredis repeats the same error on every reconnect attempt
      lastError = e.message;
      this.#logger.warn('execution events: Redis error', { error: e.message });
    };
    this.#pub.on('error', onError);
    this.#sub.on('error', onError);
    this.#sub.on('ready', () => (lastError = ''));
    this.#sub.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
  }

  publish(event: ExecutionEvent): void {
    this.#deliver(event);
    if (this.#closed) return;
    const message = encodeEvent(this.#origin, event);
    const reply =
      event.type === 'cancel_requested'
        ? this.#pub.multi().set(this.#cancelKey(event.executionId), '1', 'PX', this.#cancelMemoryMs).publish(this.#channel(event.executionId), message).exec()
        : this.#pub.publish(this.#channel(event.executionId), message);
    reply.catch((e: unknown) => this.#logger.warn('execution events: could not publish', { executionId: event.executionId, type: event.type, error: String(e) }));
  }

  subscribe(executionId: string, listener: Listener): () => void {
    let subscription = this.#subscriptions.get(executionId);
    if (!subscription) {
      const created: Subscription = { listeners: new Set(), cancelSeen: false };
      this.#subscriptions.set(executionId, (subscription = created));
      if (!this.#closed) {
        this.#sub
          .subscribe(this.#channel(executionId))
          // Subscribed now: a cancel published just before is still remembered.
          .then(() => (this.#subscriptions.get(executionId) === created ? this.#pub.exists(this.#cancelKey(executionId)) : 0))
          .then((remembered) => {
            if (remembered && this.#subscriptions.get(executionId) === created) this.#deliver({ type: 'cancel_requested', executionId });
          })
          .catch((e: unknown) => this.#logger.warn('execution events: could not subscribe', { executionId, error: String(e) }));
      }
    }
    const entry = subscription;
    entry.listeners.add(listener);
    return () => {
      if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
      if (this.#subscriptions.get(executionId) !== entry) return;
      this.#subscriptions.delete(executionId);
      if (!this.#closed) this.#sub.unsubscribe(this.#channel(executionId)).catch(() => undefined);
    };
  }

  /** Executions someone in this process listens to: for tests (a leak shows here). */
  get subscribedExecutions(): number {
    return this.#subscriptions.size;
  }

  /** Releases both Redis connections; later publishes reach this process only. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#sub.quit().catch(() => this.#sub.disconnect()), this.#pub.quit().catch(() => this.#pub.disconnect())]);
  }

  #onMessage(channel: string, message: string): void {
    const decoded = decodeEvent(message);
    if (!decoded || decoded.origin === this.#origin) return; // ours: delivered when published
    if (channel !== this.#channel(decoded.event.executionId)) return;
    this.#deliver(decoded.event);
  }

  #deliver(event: ExecutionEvent): void {
    const subscription = this.#subscriptions.get(event.executionId);
    if (!subscription) return;
    if (event.type === 'cancel_requested') {
      // once per subscription, whether it came live, remembered, or both
      if (subscription.cancelSeen) return;
      subscription.cancelSeen = true;
    }
    for (const listener of [...subscription.listeners]) {
      try {
        listener(event);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }

  #channel(executionId: string): string {
    return `${this.#namespace}:events:${executionId}`;
  }

  #cancelKey(executionId: string): string {
    return `${this.#namespace}:cancelled:${executionId}`;
  }
}
