import { formatIssues } from '@blockyard/contracts';
import { splitCredentialInput } from '../credential/credential-input.js';
import type { BlockRegistry } from '../block/block-registry.port.js';
import type { CredentialResolver } from '../credential/credential-resolver.port.js';
import { ConflictError, NotFoundError, UnexpectedError, ValidationError } from '../errors/domain.errors.js';
import type { ExecutionEvents } from '../execution/execution-events.port.js';
import type { ExecutionQueue } from '../execution/execution-queue.port.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import { finish, isFinished, newExecution, start, type Execution } from '../execution/execution.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { AgentRepository } from '../agent/agent.repository.port.js';
import type { Agent, AgentGraph } from '../agent/agent.js';
import type { AgentPlans } from '../agent/agent-plans.js';
import type { AgentRunRepository } from '../agent/agent-run.repository.port.js';
import type { NodeRun } from '../agent/agent-run.js';
import type { AgentRunner } from './agent-runner.js';
import type { ExecutionLifecycle } from '../execution/execution-lifecycle.js';

export interface ExecutionServiceDeps {
  registry: BlockRegistry;
  /** Checks, before anything is stored, that a block's credential is usable by the caller. */
  credentials: CredentialResolver;
  executions: ExecutionRepository;
  queue: ExecutionQueue;
  events: ExecutionEvents;
  clock: Clock;
  ids: IdGenerator;
  /** Told of cancels (a finish). */
  lifecycle?: ExecutionLifecycle;
  /** Agent executions: present when agent storage is bound. */
  agents?: { agents: AgentRepository; plans: AgentPlans; runs: AgentRunRepository; runner: AgentRunner };
}

/** What starts an agent execution besides its inputs. */
export interface ExecuteAgentOptions {
  waitMs?: number;
  /** The version to run; default the latest. */
  version?: number;
  /** A webhook delivery: the trigger node it fires, with the payload as the trigger's input. */
  trigger?: { nodeId: string; payload: Record<string, unknown> };
  /** The new execution's id, when the caller made it (to record it before it is queued); default a new one. */
  executionId?: string;
  /**
   * An app's execution (the external API): the credential grants it goes through, stored with
   * it; each node run that uses a credential checks them live and fails once one is revoked.
   */
  grantIds?: readonly string[];
  /** The agent as the caller just read it (spares reading it again); it must be `agentId`. */
  agent?: Agent;
  /**
   * The caller's own writes for this execution (an app's record of it, its webhook target),
   * made beside the first node runs' commit, so that they share it under group commit; the
   * execution is stored and queued only once they succeeded.
   */
  alongside?: () => Promise<unknown>;
}

/** What starts a block execution besides its inputs. */
export interface ExecuteBlockOptions {
  waitMs?: number;
  /** The new execution's id, when the caller made it (to record it first); default a new one. */
  executionId?: string;
  /** An app's execution: the credential grant it goes through, checked again by the runner before it resolves the credential. */
  grantIds?: readonly string[];
  /** The caller's own writes for this execution (an app's record of it), made before it is stored and queued. */
  alongside?: () => Promise<unknown>;
}

/** Use cases executeBlock, getExecution, cancelExecution (the caller's side of executions). */
export class ExecutionService {
  constructor(private readonly deps: ExecutionServiceDeps) {}

  /**
   * Validates, persists, then enqueues, and answers the `queued` execution; with `waitMs`, waits
   * up to that long for it to finish and answers it as it then is.
   */
  async executeBlock(userId: string, blockId: string, inputs: Record<string, unknown>, options: ExecuteBlockOptions = {}): Promise<Execution> {
    const { registry, executions, queue, clock, ids } = this.deps;
    const block = registry.get(blockId);
    if (!block) throw new NotFoundError(`block ${blockId} not found`);
    const { credentialId, blockInputs } = splitCredentialInput(block.definition.credentials ? inputs : {});
    const issues = block.validateInputs(block.definition.credentials ? blockInputs : inputs);
    if (issues) throw new ValidationError(`invalid inputs for block ${blockId}: ${formatIssues(issues)}`, issues);
    if (block.definition.credentials) {
      // 404 for a credential that is not the caller's, 403 naming what does not fit.
      await this.deps.credentials.check({ userId, requirement: block.definition.credentials, credentialId });
      if (credentialId) Object.assign(blockInputs, { credentials: { id: credentialId } });
      inputs = blockInputs;
    }
    const execution = newExecution({ id: options.executionId ?? ids.next(), userId, blockId, inputs, now: clock.now(), grantIds: options.grantIds });
    await options.alongside?.();
    await executions.create(execution);
    return this.#submit(userId, execution, options.waitMs);
  }

  /**
   * Runs the caller's agent (its latest version unless told): validates the inputs against the
   * agent's input schema and checks every credential its nodes use (404 / 403 as for blocks),
   * stores the execution with its first node runs, then enqueues its start.
   */
  async executeAgent(userId: string, agentId: string, inputs: Record<string, unknown>, options: ExecuteAgentOptions = {}): Promise<Execution> {
    const { executions, clock, ids, registry } = this.deps;
    const agents = this.deps.agents;
    if (!agents) throw new NotFoundError('agents are not available: this server has no agent storage');
    const agent = options.agent?.id === agentId ? options.agent : await agents.agents.get(agentId);
    if (!agent || agent.userId !== userId) throw new NotFoundError(`agent ${agentId} not found`);
    const version = options.version ?? agent.version;
    if (!Number.isInteger(version) || version < 1 || version > agent.version) throw new NotFoundError(`agent ${agentId} has no version ${version}`);
    const loaded = await agents.plans.get(agentId, version);
    const values = structuredClone(inputs);
    const issues = loaded.validateInputs(values);
    if (issues) throw new ValidationError(`invalid inputs for agent ${agentId}: ${formatIssues(issues)}`, issues.map((i) => ({ ...i, path: `/inputs${i.path === '/' ? '' : i.path}` })));
    for (const node of loaded.plan.graph.nodes) {
      if (node.kind !== 'block') continue;
      const requirement = registry.get(node.blockId)?.definition.credentials;
      if (!requirement) continue;
      try {
        await this.deps.credentials.check({ userId, requirement, credentialId: node.credentials.credentials });
      } catch (e) {
        if (e instanceof Error) e.message = `node ${node.id}: ${e.message}`;
        throw e;
      }
    }
    const execution = newExecution({ id: options.executionId ?? ids.next(), userId, blockId: '', inputs: values, now: clock.now(), agent: { id: agentId, version }, grantIds: options.grantIds });
    await Promise.all([agents.runner.prepare(execution, loaded, options.trigger), options.alongside?.()]);
    await executions.create(execution);
    return this.#submit(userId, execution, options.waitMs);
  }

  /** An agent version's graph as runs use it (cached per version; versions never change). NotFoundError without agent storage or such a version. */
  async agentGraph(agentId: string, version: number): Promise<AgentGraph> {
    if (!this.deps.agents) throw new NotFoundError('agents are not available: this server has no agent storage');
    return (await this.deps.agents.plans.get(agentId, version)).plan.graph;
  }

  /** The node runs of the caller's agent execution, in the order they were created. */
  async listNodeRuns(userId: string, executionId: string): Promise<Array<NodeRun & { blockId: string | null }>> {
    const execution = await this.getExecution(userId, executionId);
    return this.nodeRunsOf(execution);
  }

  /** The node runs of an agent execution (none for a block execution), each with its node's block. */
  async nodeRunsOf(execution: Execution): Promise<Array<NodeRun & { blockId: string | null }>> {
    const agents = this.deps.agents;
    if (!execution.agent || !agents) return [];
    const [runs, loaded] = await Promise.all([agents.runs.listRuns(execution.id), agents.plans.get(execution.agent.id, execution.agent.version)]);
    return runs.map((run) => {
      const node = loaded.plan.nodes.get(run.nodeId);
      return { ...run, blockId: node?.kind === 'block' ? node.blockId : null };
    });
  }

  /** Enqueues a stored execution; with `waitMs`, waits up to that long for it to finish. */
  async #submit(userId: string, execution: Execution, waitMs: number | undefined): Promise<Execution> {
    if (!waitMs || waitMs <= 0) {
      await this.#enqueue(execution);
      return execution;
    }
    // Listening before the job is enqueued, the finish cannot be missed and needs no read.
    const finished = this.#finishedWithin(execution.id, waitMs);
    try {
      await this.#enqueue(execution);
    } catch (e) {
      finished.cancel();
      throw e;
    }
    return (await finished.promise) ?? (await this.getExecution(userId, execution.id));
  }

  /**
   * Enqueues a stored execution. When the queue refuses (Redis down ...), the execution is
   * marked failed, so that it is never left `queued` with no job, and the caller gets the error.
   */
  async #enqueue(execution: Execution): Promise<void> {
    try {
      await this.deps.queue.enqueue({ executionId: execution.id, snapshot: execution });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      const failed = finish(start(execution, this.deps.clock.now()), 'failed', { error: `could not be queued: ${reason}` }, this.deps.clock.now());
      await this.deps.executions.update(failed, 'queued').catch(() => false);
      throw new UnexpectedError(`execution ${execution.id} could not be queued; try again`, { cause: e });
    }
  }


  /** Resolves with the finished execution, or null after \`timeoutMs\`. */
  #finishedWithin(executionId: string, timeoutMs: number): { promise: Promise<Execution | null>; cancel(): void } {
    let done!: (execution: Execution | null) => void;
    const promise = new Promise<Execution | null>((resolve) => (done = resolve));
    const timer = setTimeout(() => done(null), timeoutMs);
    const unsubscribe = this.deps.events.subscribe(executionId, (event) => {
      if (event.type === 'finished') done(event.execution);
    });
    void promise.then(() => {
      clearTimeout(timer);
      unsubscribe();
    });
    return { promise, cancel: () => done(null) };
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
    const finished = this.#finishedWithin(id, Math.max(0, timeoutMs));
    try {
      const current = await this.getExecution(userId, id);
      if (isFinished(current.status) || timeoutMs <= 0) return current;
      const execution = await finished.promise;
      return execution && execution.userId === userId ? execution : await this.getExecution(userId, id);
    } finally {
      finished.cancel();
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
        events.publish({ type: 'finished', executionId: id, execution: cancelled });
        await this.deps.lifecycle?.finished(cancelled);
        return cancelled;
      }
      // Its status moved (queued -> running) between read and write: read again.
    }
    throw new ConflictError(`execution ${id} is changing too fast to cancel; try again`);
  }

  /**
   * A grant was revoked (and storage says so): the queued and running executions that go
   * through it fail (`grant <id> was revoked`), and their running node runs are asked to stop,
   * in whichever process runs them. Node runs check their grants before they resolve a
   * credential anyway; this ends what was already running. Answers how many it failed.
   */
  async grantRevoked(grantId: string): Promise<number> {
    const { executions, events, clock } = this.deps;
    let failed = 0;
    for (const execution of await executions.listActiveByGrant(grantId, 10_000)) {
      let current: Execution | null = execution;
      for (let attempt = 0; attempt < 5 && current && !isFinished(current.status); attempt++) {
        const base = current.status === 'queued' ? start(current, clock.now()) : current;
        const done = finish(base, 'failed', { error: `grant ${grantId} was revoked` }, clock.now());
        if (await executions.update(done, current.status)) {
          events.publish({ type: 'cancel_requested', executionId: done.id });
          events.publish({ type: 'finished', executionId: done.id, execution: done });
          await this.deps.lifecycle?.finished(done);
          failed++;
          break;
        }
        current = await executions.get(execution.id); // it moved meanwhile: read again
      }
    }
    return failed;
  }
}

export { splitCredentialInput } from '../credential/credential-input.js';
