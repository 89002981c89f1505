export { InMemoryExecutionQueue, type InMemoryQueueOptions } from './in-memory-execution-queue.js';
export { InMemoryExecutionEvents } from './in-memory-execution-events.js';
export { InMemoryRateLimiter, type InMemoryRateLimiterOptions } from './in-memory-rate-limiter.js';
export { memoryQueueModule } from './queue-memory.module.js';
