import type { BlockRegistry } from '../block/block-registry.port.js';
import type { BlockEngine } from '../engine/block-engine.js';
import type { RunContextFactory } from '../engine/run-context-factory.js';
import type { ExecutionEvents } from '../execution/execution-events.port.js';
import type { DeadJob, ExecutionJob, ExecutionQueue } from '../execution/execution-queue.port.js';
import type { AgentRunner } from './agent-runner.js';
import type { ExecutionLifecycle } from '../execution/execution-lifecycle.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import { finish, isFinished, start, type Execution } from '../execution/execution.js';
import { DomainError } from '../errors/domain.errors.js';
import { splitCredentialInput } from '../credential/credential-input.js';
import type { GrantRepository } from '../grant/grant.repository.port.js';
import { executionGrantRefusal } from '../grant/execution-grants.js';
import type { Clock } from '../system/clock.port.js';
import type { Logger } from '../system/logger.port.js';

export interface ExecutionRunnerDeps {
  registry: BlockRegistry;
  executions: ExecutionRepository;
  queue: ExecutionQueue;
  events: ExecutionEvents;
  engine: BlockEngine;
  runContexts: RunContextFactory;
  clock: Clock;
  logger: Logger;
  /** Runs the jobs of agent executions; absent: agent executions fail. */
  agents?: AgentRunner;
  /** Told of starts and finishes. */
  lifecycle?: ExecutionLifecycle;
  /**
   * Read before an app's block execution (one with grantIds) resolves its credential; absent:
   * such executions fail, as their grants cannot be checked (as AgentRunner does for node runs).
   */
  grants?: Pick<GrantRepository, 'get'> | null;
}

/** Use case runExecution (the worker's side) and the recovery of executions a restart left behind. */
export class ExecutionRunner {
  constructor(private readonly deps: ExecutionRunnerDeps) {}

  /**
   * Runs one job from the queue: a block execution to its end, or one step of an agent
   * execution (its start, or one node run). `attempt` is the queue's delivery count.
   */
  async runJob(job: ExecutionJob, attempt = 1): Promise<void> {
    const snapshot = attempt === 1 && !job.nodeRunId ? job.snapshot : undefined;
    if (snapshot && !snapshot.agent) return this.runExecution(job.executionId, snapshot);
    const execution = snapshot ?? (await this.deps.executions.get(job.executionId));
    if (!execution) return;
    if (!execution.agent) return this.runExecution(job.executionId, execution);
    if (!this.deps.agents) {
      if (!isFinished(execution.status)) {
        const running = execution.status === 'queued' ? start(execution, this.deps.clock.now()) : execution;
        if (running === execution || (await this.deps.executions.update(running, 'queued'))) {
          await this.#finish(running, { status: 'failed', outputs: {}, costUsd: 0, error: 'this worker cannot run agents (no agent storage)' });
        }
      }
      return;
    }
    return this.deps.agents.runJob(execution, job);
  }

  /**
   * Runs one block execution to its end. Safe to call again for the same execution (at-least-once
   * delivery): a finished execution is left alone, a `running` one (its worker died) restarts.
   * Throws only for infrastructure failures, so that the queue retries the job.
   */
  async runExecution(executionId: string, snapshot?: Execution): Promise<void> {
    const { registry, executions, events, engine, runContexts, clock, logger } = this.deps;
    // A queued snapshot saves a read; if it is stale the compare-and-set below says so.
    const current = snapshot?.status === 'queued' && snapshot.id === executionId ? snapshot : await executions.get(executionId);
    if (!current || isFinished(current.status)) return;

    // Listen before the run starts, so that a cancel arriving in between is not missed.
    let cancel: (() => void) | null = null;
    let cancelRequested = false;
    const unsubscribe = events.subscribe(executionId, (event) => {
      if (event.type !== 'cancel_requested') return;
      cancelRequested = true;
      cancel?.();
    });
    try {
      const running = start(current, clock.now());
      if (!(await executions.update(running, current.status))) {
        // Cancelled meanwhile, or the snapshot was stale: storage decides.
        if (current === snapshot) await this.runExecution(executionId);
        return;
      }
      if (current.status === 'queued') await this.deps.lifecycle?.started(running);

      const block = registry.get(running.blockId);
      if (!block) {
        await this.#finish(running, { status: 'failed', outputs: {}, costUsd: 0, error: `block ${running.blockId} is not loaded on this worker` });
        return;
      }
      let parts;
      const { credentialId, blockInputs } = block.definition.credentials ? splitCredentialInput(running.inputs) : { credentialId: undefined, blockInputs: running.inputs };
      if (credentialId && running.grantIds) {
        // An app's execution: its grants on this credential are read now, so that a revocation
        // committed before this point keeps the credential from the run.
        const refused = await executionGrantRefusal(this.deps.grants, running, credentialId);
        if (refused) {
          logger.warn('execution refused its credential by its grants', { executionId, blockId: running.blockId, error: refused });
          await this.#finish(running, { status: 'failed', outputs: {}, costUsd: 0, error: refused });
          return;
        }
      }
      try {
        parts = await runContexts.forRun(block, running.userId, credentialId);
      } catch (e) {
        if (!DomainError.is(e)) throw e;
        // A key missing from the key ring, a credential gone: say so where operators look.
        logger.warn('execution cannot use its credential', { executionId, blockId: running.blockId, error: e.message });
        await this.#finish(running, { status: 'failed', outputs: {}, costUsd: 0, error: `block ${running.blockId}: ${e.message}` });
        return;
      }
      const run = engine.start(block, { ...blockInputs }, { executionId, logger: logger.child({ executionId, blockId: running.blockId }), ...parts });
      cancel = () => run.cancel('cancelled by request');
      if (cancelRequested) cancel();
      await this.#finish(running, await run.outcome);
    } finally {
      unsubscribe();
    }
  }

  /** Marks the execution of a job that ran out of attempts as failed, naming why. */
  async onDeadJob(dead: DeadJob): Promise<void> {
    const { executions, clock } = this.deps;
    if (dead.job.nodeRunId) return this.deps.agents?.onDeadJob(dead);
    let current = await executions.get(dead.job.executionId);
    if (!current || isFinished(current.status)) return;
    if (current.status === 'queued') {
      const running = start(current, clock.now());
      if (!(await executions.update(running, 'queued'))) return;
      current = running;
    }
    await this.#finish(current, { status: 'failed', outputs: current.outputs, costUsd: current.costUsd, error: `gave up after ${dead.attempts} attempts: ${dead.reason}` });
  }

  /**
   * After a restart with a queue that keeps nothing: enqueues again every execution storage
   * holds as queued or running, so none is left hanging. Returns how many.
   */
  async recoverExecutions(): Promise<number> {
    const { executions, queue } = this.deps;
    let count = 0;
    const pending = await executions.listByStatus(['queued', 'running'], 100_000);
    for (const execution of pending) {
      await queue.enqueue({ executionId: execution.id, ...(execution.agent ? { recover: true } : {}) });
      count++;
    }
    return count;
  }


  async #finish(running: Execution, outcome: { status: 'completed' | 'failed' | 'cancelled'; outputs: Record<string, unknown[]>; costUsd: number; error: string | null }): Promise<void> {
    const { executions, events, clock } = this.deps;
    const done = finish(running, outcome.status, outcome, clock.now());
    if (await executions.update(done, 'running')) {
      events.publish({ type: 'finished', executionId: running.id, execution: done });
      await this.deps.lifecycle?.finished(done);
      return;
    }
    // Cancelled while it ran: keep `cancelled`, but record what the run produced and cost.
    const now = await executions.get(running.id);
    if (now && now.status === 'cancelled') {
      await executions.update({ ...now, outputs: outcome.outputs, costUsd: outcome.costUsd }, 'cancelled');
    }
  }
}
