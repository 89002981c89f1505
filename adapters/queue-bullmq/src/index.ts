export { BullMqExecutionQueue, type BullMqQueueOptions } from './bullmq-execution-queue.js';
export { RedisExecutionEvents, type RedisExecutionEventsOptions } from './redis-execution-events.js';
export { RedisRateLimiter, type RedisRateLimiterOptions } from './redis-rate-limiter.js';
export { bullmqQueueModule, type BullMqQueueModule, type BullMqQueueModuleOptions } from './queue-bullmq.module.js';
export { redisOptionsFromUrl, describeRedis, assertRedisReachable } from './redis-connection.js';
export { TEST_REDIS_URL, testQueueName } from './redis-test-queue.js';
