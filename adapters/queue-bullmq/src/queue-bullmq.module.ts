import { ContainerModule } from 'inversify';
import { ExecutionEvents, ExecutionQueue, type Logger } from '@blockyard/core';
import { BullMqExecutionQueue } from './bullmq-execution-queue.js';
import { assertRedisReachable, describeRedis, redisOptionsFromUrl } from './redis-connection.js';
import { RedisExecutionEvents } from './redis-execution-events.js';

export interface BullMqQueueModuleOptions {
  /** `redis://[user:password@]host[:port][/db]` or `rediss://...`. */
  redisUrl: string;
  /** Default `executions`. Processes that share work use the same name (and Redis). */
  queueName?: string;
  /** Key prefix in Redis. Default `blockyard`. */
  prefix?: string;
  /** Deliveries before a job is dead. Default 5. */
  maxAttempts?: number;
  /** Delay before retry n of a failed job; default exponential from 500 ms, at most 30 s. */
  backoffMs?: (attempt: number) => number;
  /** How often lost leases are looked for; about half the workers' visibility timeout. Default 15 s. */
  stalledCheckIntervalMs?: number;
  logger?: Logger;
}

/** The bound queue and events, and how to check and release their Redis connections. */
export interface BullMqQueueModule extends ContainerModule {
  readonly queue: BullMqExecutionQueue;
  readonly events: RedisExecutionEvents;
  /** Where Redis is, for log lines: host and port, never a password. */
  readonly redis: string;
  /** Resolves once Redis answers; rejects with a clear message when it does not within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Closes the queue and releases every Redis connection (the process can then exit). */
  close(): Promise<void>;
}

/**
 * Binds ExecutionQueue to a durable BullMQ queue and ExecutionEvents to Redis pub/sub, so
 * that API and worker processes on one Redis share the work and hear each other's cancels
 * and finishes.
 */
export function bullmqQueueModule(options: BullMqQueueModuleOptions): BullMqQueueModule {
  const connection = redisOptionsFromUrl(options.redisUrl);
  const queueName = options.queueName ?? 'executions';
  const prefix = options.prefix ?? 'blockyard';
  const queue = new BullMqExecutionQueue({
    connection,
    queueName,
    prefix,
    maxAttempts: options.maxAttempts,
    backoffMs: options.backoffMs,
    stalledCheckIntervalMs: options.stalledCheckIntervalMs,
    logger: options.logger,
  });
  const events = new RedisExecutionEvents({ connection, namespace: `${prefix}:${queueName}`, logger: options.logger });
  const module = new ContainerModule(({ bind }) => {
    bind(ExecutionQueue).toConstantValue(queue);
    bind(ExecutionEvents).toConstantValue(events);
  });
  let closing: Promise<void> | null = null;
  return Object.assign(module, {
    queue,
    events,
    redis: describeRedis(connection),
    ready: (timeoutMs?: number) => assertRedisReachable(connection, timeoutMs),
    close() {
      closing ??= Promise.all([queue.release(), events.close()]).then(() => undefined);
      return closing;
    },
  });
}
