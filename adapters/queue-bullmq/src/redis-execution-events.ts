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
  /**
   * How long a channel nobody listens to any more stays subscribed, so that the unsubscribes of
   * many executions go to Redis as one command. Events arriving meanwhile are dropped. Default 250 ms.
   */
  unsubscribeDelayMs?: number;
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
 *
 * Cheap per execution: subscriptions made in one turn of the event loop go to Redis as one
 * SUBSCRIBE (and one MGET for remembered cancels); channels nobody listens to any more are
 * unsubscribed together a little later; publishes are pipelined.
 */
export class RedisExecutionEvents implements ExecutionEvents {
  readonly #origin = randomUUID();
  readonly #namespace: string;
  readonly #cancelMemoryMs: number;
  readonly #logger: Logger;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #subscriptions = new Map<string, Subscription>();
  /** Executions whose channel this process is subscribed to in Redis (or is subscribing to). */
  readonly #inRedis = new Set<string>();
  /** Subscriptions made since the last flush: one SUBSCRIBE for all of them. */
  readonly #toSubscribe = new Set<string>();
  /** Subscribed again while still subscribed in Redis: only the remembered cancel to look up. */
  readonly #toCheck = new Set<string>();
  /** Channels nobody here listens to any more, unsubscribed together a little later. */
  readonly #toUnsubscribe = new Set<string>();
  readonly #unsubscribeDelayMs: number;
  #subscribeScheduled = false;
  #unsubscribeTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(options: RedisExecutionEventsOptions) {
    this.#namespace = options.namespace;
    this.#cancelMemoryMs = options.cancelMemoryMs ?? 60_000;
    this.#unsubscribeDelayMs = options.unsubscribeDelayMs ?? 250;
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
      this.#subscriptions.set(executionId, (subscription = { listeners: new Set(), cancelSeen: false }));
      if (this.#toUnsubscribe.delete(executionId)) this.#toCheck.add(executionId); // still subscribed in Redis
      else if (!this.#inRedis.has(executionId)) {
        this.#inRedis.add(executionId);
        this.#toSubscribe.add(executionId);
      } else this.#toCheck.add(executionId);
      this.#scheduleSubscribe();
    }
    const entry = subscription;
    entry.listeners.add(listener);
    return () => {
      if (!entry.listeners.delete(listener) || entry.listeners.size > 0) return;
      if (this.#subscriptions.get(executionId) !== entry) return;
      this.#subscriptions.delete(executionId);
      this.#toCheck.delete(executionId);
      if (this.#toSubscribe.delete(executionId)) this.#inRedis.delete(executionId);
      else if (this.#inRedis.has(executionId)) {
        this.#toUnsubscribe.add(executionId);
        this.#unsubscribeTimer ??= setTimeout(() => this.#flushUnsubscribes(), this.#unsubscribeDelayMs).unref();
      }
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
    if (this.#unsubscribeTimer) clearTimeout(this.#unsubscribeTimer);
    await Promise.all([this.#sub.quit().catch(() => this.#sub.disconnect()), this.#pub.quit().catch(() => this.#pub.disconnect())]);
  }

  /** On the next turn of the event loop: one SUBSCRIBE for the new channels, then one look for remembered cancels. */
  #scheduleSubscribe(): void {
    if (this.#subscribeScheduled || this.#closed) return;
    this.#subscribeScheduled = true;
    setImmediate(() => void this.#flushSubscribes());
  }

  async #flushSubscribes(): Promise<void> {
    this.#subscribeScheduled = false;
    if (this.#closed) return;
    const subscribing = [...this.#toSubscribe];
    const checking = [...this.#toCheck];
    this.#toSubscribe.clear();
    this.#toCheck.clear();
    try {
      // Not before the connection is ready: a SUBSCRIBE sent during ioredis's ready check is lost.
      if (!(await this.#subscriberReady())) throw new Error('the connection closed');
      if (subscribing.length) await this.#sub.subscribe(...subscribing.map((id) => this.#channel(id)));
      // Subscribed now: a cancel published just before is still remembered.
      const look = [...subscribing, ...checking].filter((id) => this.#subscriptions.has(id));
      if (!look.length) return;
      const remembered = await this.#pub.mget(...look.map((id) => this.#cancelKey(id)));
      look.forEach((executionId, i) => {
        if (remembered[i]) this.#deliver({ type: 'cancel_requested', executionId });
      });
    } catch (e) {
      for (const id of subscribing) this.#inRedis.delete(id); // the next subscribe tries again
      this.#logger.warn('execution events: could not subscribe', { executions: subscribing.length, error: String(e) });
    }
  }

  #subscriberReady(): Promise<boolean> {
    if (this.#sub.status === 'ready') return Promise.resolve(true);
    return new Promise((resolve) => {
      const settle = (ready: boolean) => () => {
        this.#sub.off('ready', onReady);
        this.#sub.off('end', onEnd);
        resolve(ready);
      };
      const onReady = settle(true);
      const onEnd = settle(false);
      this.#sub.once('ready', onReady);
      this.#sub.once('end', onEnd);
    });
  }

  #flushUnsubscribes(): void {
    this.#unsubscribeTimer = null;
    if (this.#closed) return;
    if (this.#sub.status !== 'ready') {
      this.#unsubscribeTimer = setTimeout(() => this.#flushUnsubscribes(), this.#unsubscribeDelayMs).unref();
      return;
    }
    const leaving = [...this.#toUnsubscribe].filter((id) => !this.#subscriptions.has(id));
    this.#toUnsubscribe.clear();
    if (!leaving.length) return;
    for (const id of leaving) this.#inRedis.delete(id);
    this.#sub.unsubscribe(...leaving.map((id) => this.#channel(id))).catch(() => undefined);
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
