import { ContainerModule } from 'inversify';
import { ExecutionEvents, ExecutionQueue } from '@blockyard/core';
import { InMemoryExecutionEvents } from './in-memory-execution-events.js';
import { InMemoryExecutionQueue, type InMemoryQueueOptions } from './in-memory-execution-queue.js';

/** Binds ExecutionQueue and ExecutionEvents to in-process implementations. */
export function memoryQueueModule(options: InMemoryQueueOptions = {}): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(ExecutionQueue).toConstantValue(new InMemoryExecutionQueue(options));
    bind(ExecutionEvents).toConstantValue(new InMemoryExecutionEvents());
  });
}
