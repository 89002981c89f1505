import { formatIssues } from '@blockyard/contracts';
import type { BlockRegistry } from '../block/block-registry.port.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/domain.errors.js';
import type { ExecutionEvents } from '../execution/execution-events.port.js';
import type { ExecutionQueue } from '../execution/execution-queue.port.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import { finish, isFinished, newExecution, type Execution } from '../execution/execution.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';

export interface ExecutionServiceDeps {
  registry: BlockRegistry;
  executions: ExecutionRepository;
  queue: ExecutionQueue;
  events: ExecutionEvents;
  clock: Clock;
  ids: IdGenerator;
}

/** Use cases executeBlock, getExecution, cancelExecution (the caller's side of executions). */
export class ExecutionService {
  constructor(private readonly deps: ExecutionServiceDeps) {}

  /** Validates, persists, then enqueues; the returned execution is `queued`. */
  async executeBlock(userId: string, blockId: string, inputs: Record<string, unknown>): Promise<Execution> {
    const { registry, executions, queue, clock, ids } = this.deps;
    const block = registry.get(blockId);
    if (!block) throw new NotFoundError(`block ${blockId} not found`);
    const issues = block.validateInputs(inputs);
    if (issues) throw new ValidationError(`invalid inputs for block ${blockId}: ${formatIssues(issues)}`, issues);
    const execution = newExecution({ id: ids.next(), userId, blockId, inputs, now: clock.now() });
    await executions.create(execution);
    await queue.enqueue({ executionId: execution.id });
    return execution;
  }

  /** The caller's execution; someone else's is not found. */
  async getExecution(userId: string, id: string): Promise<Execution> {
    const execution = await this.deps.executions.get(id);
    if (!execution || execution.userId !== userId) throw new NotFoundError(`execution ${id} not found`);
    return execution;
  }

  /**
   * Waits up to `timeoutMs` for the execution to finish and returns it as it then is
   * (finished or not).
   */
  async waitForExecution(userId: string, id: string, timeoutMs: number): Promise<Execution> {
    let wake!: () => void;
    const finished = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = this.deps.events.subscribe(id, (event) => {
      if (event.type === 'finished') wake();
    });
    try {
      const current = await this.getExecution(userId, id);
      if (isFinished(current.status) || timeoutMs <= 0) return current;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([finished, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      return await this.getExecution(userId, id);
    } finally {
      unsubscribe();
    }
  }

  /** Cancels a queued or running execution; a finished one is a ConflictError. */
  async cancelExecution(userId: string, id: string): Promise<Execution> {
    const { executions, events, clock } = this.deps;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.getExecution(userId, id);
      if (isFinished(current.status)) throw new ConflictError(`execution ${id} is already ${current.status}`);
      const cancelled = finish(current, 'cancelled', { error: 'cancelled by request' }, clock.now());
      if (await executions.update(cancelled, current.status)) {
        events.publish({ type: 'cancel_requested', executionId: id });
        events.publish({ type: 'finished', executionId: id, status: 'cancelled' });
        return cancelled;
      }
      // Its status moved (queued -> running) between read and write: read again.
    }
    throw new ConflictError(`execution ${id} is changing too fast to cancel; try again`);
  }
}
