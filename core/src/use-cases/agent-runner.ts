import type { BlockRegistry } from '../block/block-registry.port.js';
import type { BlockEngine, RunOutcome } from '../engine/block-engine.js';
import type { RunContextFactory } from '../engine/run-context-factory.js';
import { DomainError } from '../errors/domain.errors.js';
import type { ExecutionEvents } from '../execution/execution-events.port.js';
import type { DeadJob, ExecutionJob, ExecutionQueue } from '../execution/execution-queue.port.js';
import type { ExecutionRepository } from '../execution/execution.repository.port.js';
import { finish, isFinished, start, type Execution } from '../execution/execution.js';
import { agentOutputs, deliver, initialRuns, isNodeRunFinished, START, StateDraft, emptyState, type NodeRun, type ReadyRun, type AgentExecutionState } from '../agent/agent-run.js';
import type { AgentRunRepository } from '../agent/agent-run.repository.port.js';
import type { AgentPlans, LoadedPlan } from '../agent/agent-plans.js';
import type { BlockNode } from '../agent/agent.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';
import type { Logger } from '../system/logger.port.js';
import type { ExecutionLifecycle } from '../execution/execution-lifecycle.js';
import { splitCredentialInput } from '../credential/credential-input.js';
import type { GrantRepository } from '../grant/grant.repository.port.js';
import { executionGrantRefusal } from '../grant/execution-grants.js';

export interface AgentRunnerOptions {
  /** Node runs of one execution handed to the queue at once. Default 16. */
  maxConcurrentNodes?: number;
  /** An agent execution fails once it has run this long. Default 1 hour. */
  executionTimeoutMs?: number;
}

export interface AgentRunnerDeps {
  registry: BlockRegistry;
  executions: ExecutionRepository;
  runs: AgentRunRepository;
  plans: AgentPlans;
  queue: ExecutionQueue;
  events: ExecutionEvents;
  engine: BlockEngine;
  runContexts: RunContextFactory;
  clock: Clock;
  ids: IdGenerator;
  logger: Logger;
  /** Told of starts and finishes. */
  lifecycle?: ExecutionLifecycle;
  /**
   * Read before a node run of an app's execution (one with grantIds) resolves its credential;
   * absent: such runs fail, as their grants cannot be checked.
   */
  grants?: Pick<GrantRepository, 'get'> | null;
}

/** How many times a commit is retried when other runs of the execution commit in between. */
const COMMIT_ATTEMPTS = 1000;

/**
 * Runs agent executions node by node through the queue. Each node run is a job; what a node
 * produces flows along its links as it is produced, and every step is committed to storage
 * (the scheduler state and the node runs, atomically) before the jobs it makes are enqueued.
 * A job delivered again finds its node run as storage holds it: a finished run is not run
 * again, only what it handed on is re-sent; values it already passed on are not passed again.
 */
export class AgentRunner {
  readonly maxConcurrentNodes: number;
  /**
   * Commits of one execution made by this process, one after the other: they would only
   * collide on the state's version and retry. Other processes still meet at the compare-and-set.
   */
  readonly #commitTurns = new Map<string, Promise<unknown>>();
  readonly executionTimeoutMs: number;

  constructor(
    private readonly deps: AgentRunnerDeps,
    options: AgentRunnerOptions = {},
  ) {
    this.maxConcurrentNodes = Math.max(1, options.maxConcurrentNodes ?? 16);
    this.executionTimeoutMs = Math.max(1, options.executionTimeoutMs ?? 3_600_000);
  }

  /**
   * The first step of an accepted agent execution, before it is stored: its initial state and
   * node runs (input values passed on, nodes without linked inputs ready, the trigger's run).
   * Throws a ValidationError for inputs that do not fit the agent's input schema.
   */
  async prepare(execution: Execution, loaded: LoadedPlan, trigger?: { nodeId: string; payload: Record<string, unknown> }): Promise<void> {
    const { clock } = this.deps;
    const now = clock.now();
    const draft = new StateDraft(emptyState(null));
    const { inputValues } = initialRuns(loaded.plan, draft, execution.inputs, trigger, (node) => loaded.isTrigger(node));
    const rows: NodeRun[] = inputValues.map(({ nodeId, value }) => ({
      ...this.#newRun(execution.id, nodeId, ++draft.runs, { value }, null, now),
      status: 'completed',
      outputs: { value: [value] },
      propagated: 1,
      startedAt: now,
      completedAt: now,
    }));
    rows.push(...this.#place(execution.id, draft, draft.ready.splice(0), START, now));
    if (!(await this.deps.runs.commit(execution.id, 0, draft.finish(), rows))) {
      throw new Error(`agent execution ${execution.id} was already prepared`);
    }
  }

  /** Runs one job of an agent execution: its start, or one node run. */
  async runJob(execution: Execution, job: ExecutionJob): Promise<void> {
    if (job.nodeRunId) return this.#runNode(execution, job.nodeRunId, job.token ?? null);
    return this.#start(execution, job.recover === true);
  }

  /** A node job that ran out of attempts: its run fails, and with it the execution. */
  async onDeadJob(dead: DeadJob): Promise<void> {
    const { executions, runs } = this.deps;
    const { nodeRunId, executionId } = dead.job;
    if (!nodeRunId) return;
    const run = await runs.getRun(nodeRunId);
    const execution = await executions.get(executionId);
    if (!run || !execution || isNodeRunFinished(run.status)) return;
    const outcome: RunOutcome = { status: 'failed', outputs: run.outputs as Record<string, unknown[]>, costUsd: run.costUsd, error: `gave up after ${dead.attempts} attempts: ${dead.reason}` };
    const loaded = await this.deps.plans.get(execution.agent!.id, execution.agent!.version);
    await this.#conclude(execution, loaded, run, outcome);
  }

  async #start(execution: Execution, recover: boolean): Promise<void> {
    const { executions, runs, clock } = this.deps;
    let current = execution;
    if (current.status === 'queued') {
      const running = start(current, clock.now());
      if (await executions.update(running, 'queued')) {
        current = running;
        await this.deps.lifecycle?.started(running);
      }
      else {
        const reread = await executions.get(execution.id);
        if (!reread || isFinished(reread.status)) return;
        current = reread;
      }
    }
    if (!(await runs.getState(current.id))) {
      await this.#finishExecution(current, 'failed', null, `agent execution ${current.id} has no stored state (it was not prepared); submit it again`);
      return;
    }
    // Send the start's runs (again: a start delivered twice re-sends; duplicates are harmless).
    await this.#redispatch(current.id, recover ? null : START, recover);
    await this.#settle(current);
  }

  async #runNode(execution: Execution, nodeRunId: string, token: string | null): Promise<void> {
    const { runs, clock, registry, engine, runContexts, events, logger } = this.deps;
    let run = await runs.getRun(nodeRunId);
    if (!run) return;
    if (isFinished(execution.status)) {
      // A queued run will not run; a running one is ended by the job that holds it.
      if (run.status === 'queued' || (run.status === 'running' && run.token === token)) {
        const loaded = await this.deps.plans.get(execution.agent!.id, execution.agent!.version);
        await this.#conclude(execution, loaded, run, { status: 'cancelled', outputs: run.outputs as Record<string, unknown[]>, costUsd: run.costUsd, error: `execution ${execution.status}` });
      }
      return;
    }
    if (isNodeRunFinished(run.status)) {
      // Its last commit happened; what it handed on may not have reached the queue.
      await this.#redispatch(execution.id, run.id, false);
      await this.#settle(execution);
      return;
    }

    // Claim the run for this job: a queued run once; a running one only by the job that holds it.
    let resumed = false;
    if (run.status === 'queued') {
      const claimed: NodeRun = { ...run, status: 'running', token, attempts: run.attempts + 1, startedAt: run.startedAt ?? clock.now() };
      if (!(await runs.updateRun(claimed, { status: 'queued', token: run.token }))) return this.#runNode(execution, nodeRunId, token);
      run = claimed;
    } else {
      if (run.token !== token) return; // another job of this run holds it
      const again: NodeRun = { ...run, attempts: run.attempts + 1 };
      if (!(await runs.updateRun(again, { status: 'running', token }))) return;
      run = again;
      resumed = true;
    }

    const loaded = await this.deps.plans.get(execution.agent!.id, execution.agent!.version);
    if (resumed) await this.#redispatch(execution.id, run.id, false);
    const node = loaded.plan.node(run.nodeId) as BlockNode;
    const block = registry.get(node.blockId);
    if (!block) {
      await this.#conclude(execution, loaded, run, { status: 'failed', outputs: {}, costUsd: 0, error: `block ${node.blockId} is not loaded on this worker` });
      return;
    }
    const { credentialId, blockInputs } = block.definition.credentials ? splitCredentialInput({ ...run.inputs }) : { credentialId: undefined, blockInputs: { ...run.inputs } };
    if (credentialId && execution.grantIds) {
      // An app's execution: its grants on this credential are read now, so that a revocation
      // committed before this point keeps the credential from this run. A credential that came
      // in through a link (not named by the node, so not checked at execute) needs a grant too.
      const refused = await executionGrantRefusal(this.deps.grants, execution, credentialId);
      if (refused) {
        logger.warn('node run refused its credential by its grants', { executionId: execution.id, nodeId: node.id, blockId: node.blockId, error: refused });
        await this.#conclude(execution, loaded, run, { status: 'failed', outputs: {}, costUsd: 0, error: refused });
        return;
      }
    }
    let parts;
    try {
      parts = await runContexts.forRun(block, execution.userId, credentialId);
    } catch (e) {
      if (!DomainError.is(e)) throw e;
      logger.warn('node run cannot use its credential', { executionId: execution.id, nodeId: node.id, blockId: node.blockId, error: e.message });
      await this.#conclude(execution, loaded, run, { status: 'failed', outputs: {}, costUsd: 0, error: `block ${node.blockId}: ${e.message}` });
      return;
    }

    const deadline = (execution.startedAt ?? execution.createdAt).getTime() + this.executionTimeoutMs;
    const remaining = deadline - clock.now().getTime();
    if (remaining <= 0) {
      await this.#conclude(execution, loaded, run, { status: 'failed', outputs: {}, costUsd: 0, error: `timed out after ${this.executionTimeoutMs} ms` }, `execution timed out after ${this.executionTimeoutMs} ms`);
      return;
    }
    const blockTimeout = block.definition.timeout_ms ?? engine.defaultTimeoutMs;
    const executionLimited = remaining < blockTimeout;

    // Each value flows on as it is produced: values are gathered for one turn of the event loop
    // and committed together, in order; what is still gathered when the run ends goes with its
    // end, in one commit.
    let produced = 0;
    let gathered: Produced[] = [];
    let flushing: Promise<void> = Promise.resolve();
    let flushScheduled: ReturnType<typeof setImmediate> | null = null;
    let flushError: unknown = null;
    let current = run;
    const flush = (): void => {
      flushScheduled = null;
      const batch = gathered;
      gathered = [];
      flushing = flushing.then(async () => {
        if (flushError || !batch.length) return;
        try {
          current = await this.#inTurn(execution.id, () => this.#commitProduced(execution.id, loaded, current, batch));
        } catch (e) {
          flushError = e;
        }
      });
    };
    const onOutput = (name: string, value: unknown): void => {
      const index = produced++;
      if (index < current.propagated) return; // passed on by an earlier attempt
      gathered.push({ name, value });
      flushScheduled ??= setImmediate(flush);
    };

    let cancelRequested = false;
    let cancel: (() => void) | null = null;
    const unsubscribe = events.subscribe(execution.id, (event) => {
      if (event.type !== 'cancel_requested') return;
      cancelRequested = true;
      cancel?.();
    });
    let outcome: RunOutcome;
    try {
      const blockRun = engine.start(block, blockInputs, {
        executionId: execution.id,
        timeoutMs: Math.min(blockTimeout, remaining),
        logger: logger.child({ executionId: execution.id, nodeId: node.id, blockId: node.blockId }),
        ...parts,
        onOutput,
      });
      cancel = () => blockRun.cancel('cancelled by request');
      if (cancelRequested) cancel();
      outcome = await blockRun.outcome;
      if (flushScheduled) clearImmediate(flushScheduled);
      flushScheduled = null;
      await flushing;
    } finally {
      unsubscribe();
    }
    if (flushError) throw flushError;
    const timedOutByExecution = executionLimited && outcome.status === 'failed' && /timed out/.test(outcome.error ?? '');
    await this.#conclude(execution, loaded, current, outcome, timedOutByExecution ? `execution timed out after ${this.executionTimeoutMs} ms` : undefined, gathered);
  }


  /** Passes produced values along their links into `draft`; the source run as it then is. */
  #deliverAll(loaded: LoadedPlan, draft: StateDraft, source: NodeRun, values: readonly Produced[]): NodeRun {
    let outputs = source.outputs as Record<string, unknown[]>;
    for (const { name, value } of values) {
      deliver(loaded.plan, draft, source.nodeId, name, value);
      outputs = appendOutput(outputs, name, value);
    }
    return { ...source, outputs, propagated: source.propagated + values.length };
  }

  /** Commits values a run produced: the sinks' new runs, and how far the source has passed on. */
  async #commitProduced(executionId: string, loaded: LoadedPlan, source: NodeRun, values: readonly Produced[]): Promise<NodeRun> {
    const { runs, clock } = this.deps;
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS; attempt++) {
      const state = await this.#state(executionId);
      const draft = new StateDraft(state);
      const updated = this.#deliverAll(loaded, draft, source, values);
      const placed = this.#place(executionId, draft, draft.ready.splice(0), source.id, clock.now());
      if (await runs.commit(executionId, state.version, draft.finish(), [updated, ...placed])) {
        await this.#enqueue(placed);
        return updated;
      }
    }
    throw new Error(`agent execution ${executionId}: could not commit node ${source.nodeId}'s output (too much contention)`);
  }

  /** Runs `step` after the other commits of this execution in this process. */
  #inTurn<T>(executionId: string, step: () => Promise<T>): Promise<T> {
    const previous = this.#commitTurns.get(executionId) ?? Promise.resolve();
    const next = previous.then(step, step);
    const settled = next.catch(() => undefined);
    this.#commitTurns.set(executionId, settled);
    void settled.then(() => {
      if (this.#commitTurns.get(executionId) === settled) this.#commitTurns.delete(executionId);
    });
    return next;
  }

  /**
   * Commits the end of a node run (its status, outputs, cost; the backlog refilled), then
   * settles the execution: a failed node fails it, the last run to finish completes it.
   */
  async #conclude(execution: Execution, loaded: LoadedPlan, run: NodeRun, outcome: RunOutcome, executionError?: string, unsent: readonly Produced[] = []): Promise<void> {
    const { clock } = this.deps;
    const now = clock.now();
    const done: NodeRun = {
      ...run,
      status: outcome.status,
      outputs: outcome.outputs,
      error: outcome.error,
      costUsd: outcome.costUsd,
      completedAt: now,
      startedAt: run.startedAt ?? now,
    };
    const { state, placed } = await this.#inTurn(execution.id, () => this.#commitEnd(execution, loaded, run, done, outcome, unsent));
    await this.#enqueue(placed);

    if (outcome.status === 'failed') {
      const node = loaded.plan.node(run.nodeId);
      const what = node.kind === 'block' ? `node ${node.id} (${node.blockId})` : `node ${node.id}`;
      await this.#finishExecution(execution, 'failed', state, executionError ?? `${what} failed: ${outcome.error}`, loaded);
      return;
    }
    await this.#settle(execution, state);
  }

  async #commitEnd(execution: Execution, loaded: LoadedPlan, run: NodeRun, done: NodeRun, outcome: RunOutcome, unsent: readonly Produced[]): Promise<{ state: AgentExecutionState; placed: NodeRun[] }> {
    const { runs, clock } = this.deps;
    let state: AgentExecutionState | undefined;
    let placed: NodeRun[] = [];
    for (let attempt = 0; attempt < COMMIT_ATTEMPTS && !state; attempt++) {
      const base = await this.#state(execution.id);
      const draft = new StateDraft(base);
      draft.active = Math.max(0, draft.active - (run.dispatchedBy === null ? 0 : 1));
      draft.costUsd += outcome.costUsd;
      // Values produced last go with the end, in the same commit.
      const sent = unsent.length ? this.#deliverAll(loaded, draft, run, unsent) : run;
      placed = unsent.length ? this.#place(execution.id, draft, draft.ready.splice(0), run.id, clock.now()) : [];
      if (outcome.status === 'completed') {
        const free = this.maxConcurrentNodes - draft.active;
        if (free > 0) {
          const refill = (await runs.backlog(execution.id, free)).map((waiting): NodeRun => ({ ...waiting, dispatchedBy: run.id }));
          placed.push(...refill);
          draft.active += refill.length;
        }
      }
      const next = draft.finish();
      if (await runs.commit(execution.id, base.version, next, [{ ...done, propagated: sent.propagated }, ...placed])) state = next;
    }
    if (!state) throw new Error(`agent execution ${execution.id}: could not commit node ${run.nodeId}'s end (too much contention)`);
    return { state, placed };
  }

  /** Completes the execution when no node run is left; records the cost of one already ended. */
  async #settle(execution: Execution, known?: AgentExecutionState): Promise<void> {
    const state = known ?? (await this.deps.runs.getState(execution.id));
    if (!state || state.active > 0) return;
    const waiting = await this.deps.runs.backlog(execution.id, this.maxConcurrentNodes);
    if (waiting.length) {
      // Nothing runs but some wait: hand them to the queue (a safety net; a run's end refills).
      const placed = waiting.map((run): NodeRun => ({ ...run, dispatchedBy: START }));
      const next: AgentExecutionState = { ...state, version: state.version + 1, active: placed.length };
      if (await this.deps.runs.commit(execution.id, state.version, next, placed)) await this.#enqueue(placed);
      return;
    }
    await this.#finishExecution(execution, 'completed', state, null);
  }

  async #finishExecution(execution: Execution, to: 'completed' | 'failed', state: AgentExecutionState | null, error: string | null, plan?: LoadedPlan): Promise<void> {
    const { executions, events, clock } = this.deps;
    const loaded = plan ?? (state ? await this.deps.plans.get(execution.agent!.id, execution.agent!.version) : null);
    const outputs = loaded ? agentOutputs(loaded.plan, await this.deps.runs.listRuns(execution.id)) : {};
    const costUsd = state?.costUsd ?? execution.costUsd;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = attempt === 0 && execution.status === 'running' ? execution : await executions.get(execution.id);
      if (!current) return;
      if (isFinished(current.status)) {
        // Cancelled or failed already: keep its status, record what the nodes produced and cost.
        if (state && state.active === 0 && (current.costUsd !== costUsd || current.status === 'cancelled')) {
          await executions.update({ ...current, outputs: current.status === 'failed' ? current.outputs : outputs, costUsd }, current.status);
        }
        return;
      }
      const base = current.status === 'queued' ? start(current, clock.now()) : current;
      const done = finish(base, to, { outputs, costUsd, error }, clock.now());
      if (await executions.update(done, current.status)) {
        if (to === 'failed') events.publish({ type: 'cancel_requested', executionId: execution.id });
        events.publish({ type: 'finished', executionId: execution.id, execution: done });
        await this.deps.lifecycle?.finished(done);
        return;
      }
    }
  }

  /** Sends again the runs `by` handed to the queue that are still queued (all queued ones when `by` is null). */
  async #redispatch(executionId: string, by: string | null, includeRunning: boolean): Promise<void> {
    const all = await this.deps.runs.listRuns(executionId);
    const lost = all.filter(
      (run) => run.dispatchedBy !== null && (by === null || run.dispatchedBy === by) && (run.status === 'queued' || (includeRunning && run.status === 'running')),
    );
    for (const run of lost) {
      // A running run keeps its token: the job sent again is the one that holds it.
      await this.deps.queue.enqueue({ executionId, nodeRunId: run.id, token: run.status === 'running' ? (run.token ?? undefined) : this.deps.ids.next() });
    }
  }

  async #state(executionId: string): Promise<AgentExecutionState> {
    const state = await this.deps.runs.getState(executionId);
    if (!state) throw new Error(`agent execution ${executionId} has no stored state`);
    return state;
  }

  /** New runs for ready nodes: handed to the queue while under the limit, else kept in the backlog. */
  #place(executionId: string, draft: StateDraft, ready: readonly ReadyRun[], by: string, now: Date): NodeRun[] {
    const rows: NodeRun[] = [];
    for (const r of ready) {
      const dispatch = draft.active < this.maxConcurrentNodes;
      if (dispatch) draft.active++;
      rows.push(this.#newRun(executionId, r.nodeId, ++draft.runs, r.inputs, dispatch ? by : null, now));
    }
    return rows;
  }

  #newRun(executionId: string, nodeId: string, seq: number, inputs: Record<string, unknown>, dispatchedBy: string | null, now: Date): NodeRun {
    return {
      id: `${executionId}.${seq}`,
      executionId,
      nodeId,
      seq,
      status: 'queued',
      inputs,
      outputs: {},
      error: null,
      costUsd: 0,
      attempts: 0,
      token: null,
      dispatchedBy,
      propagated: 0,
      createdAt: now,
      startedAt: null,
      completedAt: null,
    };
  }

  async #enqueue(placed: readonly NodeRun[]): Promise<void> {
    for (const run of placed) {
      if (run.dispatchedBy !== null) await this.deps.queue.enqueue({ executionId: run.executionId, nodeRunId: run.id, token: this.deps.ids.next() });
    }
  }
}

/** A value a node run produced, waiting to be passed on. */
interface Produced {
  readonly name: string;
  readonly value: unknown;
}

function appendOutput(outputs: Readonly<Record<string, readonly unknown[]>>, name: string, value: unknown): Record<string, unknown[]> {
  return { ...(outputs as Record<string, unknown[]>), [name]: [...(outputs[name] ?? []), value] };
}
