import type { AgentGraph, AgentLink, AgentNode, BlockNode } from './agent.js';
import { AGENT_PORT_VALUE } from './agent.js';

export type NodeRunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One run of one node of an agent execution: what it got, what it produced, how it ended. */
export interface NodeRun {
  readonly id: string;
  readonly executionId: string;
  readonly nodeId: string;
  /** Order of creation within the execution (1, 2, ...): the backlog is served in this order. */
  readonly seq: number;
  readonly status: NodeRunStatus;
  /** The block's inputs: fixed values, linked values, static values (and `credentials: { id }`). */
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, readonly unknown[]>>;
  readonly error: string | null;
  readonly costUsd: number;
  readonly attempts: number;
  /** The token of the queue job that holds the run while it is running. */
  readonly token: string | null;
  /**
   * The run (or {@link START}) that handed it to the queue; null while it waits in the backlog
   * for the execution's concurrency limit.
   */
  readonly dispatchedBy: string | null;
  /** How many of its output values have been passed along its links. */
  readonly propagated: number;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
}

/** dispatchedBy of the runs the start of an execution hands to the queue. */
export const START = 'start';

export function isNodeRunFinished(status: NodeRunStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** A sink run still waiting for some of its linked inputs. */
export interface PendingRun {
  readonly inputs: Readonly<Record<string, unknown>>;
}

/**
 * What the scheduler of one agent execution keeps between node runs. Small on purpose: the runs
 * themselves are rows of their own; this holds only what waits and what counts.
 */
export interface AgentExecutionState {
  /** Bumped by every commit (compare-and-set); 0 means none stored yet. */
  readonly version: number;
  /** Sink node id -> input name -> the value its static link keeps. */
  readonly statics: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Node id -> its runs waiting for more inputs, oldest first. */
  readonly pending: Readonly<Record<string, readonly PendingRun[]>>;
  /** Runs handed to the queue and not yet finished. */
  readonly active: number;
  /** Runs created (dispatched or in the backlog) so far: the next run's seq is this + 1. */
  readonly runs: number;
  readonly costUsd: number;
  /** When the execution times out (ms since epoch); null: no limit. */
  readonly deadline: number | null;
}

export function emptyState(deadline: number | null): AgentExecutionState {
  return { version: 0, statics: {}, pending: {}, active: 0, runs: 0, costUsd: 0, deadline };
}

/** A node run the scheduler decided to create: its node and its inputs. */
export interface ReadyRun {
  readonly nodeId: string;
  readonly inputs: Record<string, unknown>;
}

/** An agent graph indexed for scheduling. Built once per agent version and reused. */
export class AgentPlan {
  readonly nodes = new Map<string, AgentNode>();
  /** `${nodeId}\u0000${output}` -> the links leaving that output. */
  readonly #outgoing = new Map<string, AgentLink[]>();
  /** Node id -> the input names that have at least one incoming link. */
  readonly linkedInputs = new Map<string, readonly string[]>();

  constructor(readonly graph: AgentGraph) {
    for (const node of graph.nodes) this.nodes.set(node.id, node);
    const linked = new Map<string, Set<string>>();
    for (const link of graph.links) {
      const key = `${link.sourceNodeId}\u0000${link.sourceOutput}`;
      const list = this.#outgoing.get(key);
      if (list) list.push(link);
      else this.#outgoing.set(key, [link]);
      let inputs = linked.get(link.sinkNodeId);
      if (!inputs) linked.set(link.sinkNodeId, (inputs = new Set()));
      inputs.add(link.sinkInput);
    }
    for (const [id, inputs] of linked) this.linkedInputs.set(id, [...inputs]);
  }

  outgoing(nodeId: string, output: string): readonly AgentLink[] {
    return this.#outgoing.get(`${nodeId}\u0000${output}`) ?? [];
  }

  node(id: string): AgentNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`node ${id} is not in the agent`);
    return node;
  }

  /** The inputs a block node's run gets: fixed values and its credential, then `values` over them. */
  runInputs(node: BlockNode, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const inputs: Record<string, unknown> = { ...node.inputs, ...values };
    const credentialId = node.credentials.credentials;
    if (credentialId) inputs.credentials = { id: credentialId };
    return inputs;
  }
}

/** A state being changed by one commit; copies only what it touches. */
export class StateDraft {
  #statics: Record<string, Readonly<Record<string, unknown>>> | null = null;
  #pending: Record<string, readonly PendingRun[]> | null = null;
  active: number;
  runs: number;
  costUsd: number;
  readonly ready: ReadyRun[] = [];

  constructor(readonly base: AgentExecutionState) {
    this.active = base.active;
    this.runs = base.runs;
    this.costUsd = base.costUsd;
  }

  get statics(): Readonly<Record<string, Readonly<Record<string, unknown>>>> {
    return this.#statics ?? this.base.statics;
  }

  get pending(): Readonly<Record<string, readonly PendingRun[]>> {
    return this.#pending ?? this.base.pending;
  }

  setStatic(nodeId: string, input: string, value: unknown): void {
    this.#statics ??= { ...this.base.statics };
    this.#statics[nodeId] = { ...this.#statics[nodeId], [input]: value };
  }

  setPending(nodeId: string, runs: readonly PendingRun[]): void {
    this.#pending ??= { ...this.base.pending };
    if (runs.length) this.#pending[nodeId] = runs;
    else delete this.#pending[nodeId];
  }

  /** The new state (version + 1). */
  finish(): AgentExecutionState {
    return {
      version: this.base.version + 1,
      statics: this.#statics ?? this.base.statics,
      pending: this.#pending ?? this.base.pending,
      active: this.active,
      runs: this.runs,
      costUsd: this.costUsd,
      deadline: this.base.deadline,
    };
  }
}

/**
 * Passes one value a node produced on `output` along every link leaving it. An output node
 * needs nothing (the agent's outputs are read off the runs at the end); a block node's input takes it into its oldest waiting run
 * that lacks that input, or a new run; a static link also keeps it for every later run and
 * fills every waiting run that lacks it. Runs whose linked inputs all have values become ready
 * (`draft.ready`).
 */
export function deliver(plan: AgentPlan, draft: StateDraft, sourceNodeId: string, output: string, value: unknown): void {
  for (const link of plan.outgoing(sourceNodeId, output)) {
    const sink = plan.node(link.sinkNodeId);
    if (sink.kind !== 'block') continue;
    const waiting = draft.pending[sink.id] ?? [];
    let runs: PendingRun[];
    if (link.static) {
      draft.setStatic(sink.id, link.sinkInput, value);
      runs = waiting.length
        ? waiting.map((run) => (link.sinkInput in run.inputs ? run : { inputs: { ...run.inputs, [link.sinkInput]: value } }))
        : [{ inputs: { [link.sinkInput]: value } }];
    } else {
      const i = waiting.findIndex((run) => !(link.sinkInput in run.inputs));
      runs = [...waiting];
      if (i >= 0) runs[i] = { inputs: { ...waiting[i]!.inputs, [link.sinkInput]: value } };
      else runs.push({ inputs: { ...draft.statics[sink.id], [link.sinkInput]: value } });
    }
    const linked = plan.linkedInputs.get(sink.id) ?? [];
    const statics = draft.statics[sink.id];
    const still: PendingRun[] = [];
    for (const run of runs) {
      const complete = linked.every((input) => input in run.inputs || (statics !== undefined && input in statics));
      if (complete) draft.ready.push({ nodeId: sink.id, inputs: plan.runInputs(sink, { ...statics, ...run.inputs }) });
      else still.push(run);
    }
    draft.setPending(sink.id, still);
  }
}

/** The node runs an execution starts with, and the values its input nodes yield. */
export function initialRuns(
  plan: AgentPlan,
  draft: StateDraft,
  inputs: Readonly<Record<string, unknown>>,
  trigger?: { nodeId: string; payload: Record<string, unknown> },
  isTrigger: (node: BlockNode) => boolean = () => false,
): { inputValues: { nodeId: string; value: unknown }[] } {
  const inputValues: { nodeId: string; value: unknown }[] = [];
  for (const node of plan.graph.nodes) {
    if (node.kind === 'input') {
      const value = node.name in inputs ? inputs[node.name] : node.default;
      if (value === undefined) continue;
      inputValues.push({ nodeId: node.id, value });
      deliver(plan, draft, node.id, AGENT_PORT_VALUE, value);
    } else if (node.kind === 'block' && !plan.linkedInputs.has(node.id)) {
      if (isTrigger(node)) {
        if (trigger?.nodeId === node.id) draft.ready.push({ nodeId: node.id, inputs: plan.runInputs(node, { payload: trigger.payload }) });
      } else {
        draft.ready.push({ nodeId: node.id, inputs: plan.runInputs(node, {}) });
      }
    }
  }
  return { inputValues };
}

/**
 * The agent's outputs: output node name -> the values that reached it, read off the source runs
 * in the order they were created (and each run's values in the order it produced them).
 */
export function agentOutputs(plan: AgentPlan, runs: readonly NodeRun[]): Record<string, unknown[]> {
  const outputs: Record<string, unknown[]> = {};
  const into = new Map<string, { output: string; name: string }[]>();
  for (const link of plan.graph.links) {
    const sink = plan.nodes.get(link.sinkNodeId);
    if (sink?.kind !== 'output') continue;
    outputs[sink.name] ??= [];
    const list = into.get(link.sourceNodeId) ?? [];
    list.push({ output: link.sourceOutput, name: sink.name });
    into.set(link.sourceNodeId, list);
  }
  for (const run of [...runs].sort((a, b) => a.seq - b.seq)) {
    for (const { output, name } of into.get(run.nodeId) ?? []) {
      const values = run.outputs[output];
      if (values) outputs[name]!.push(...values);
    }
  }
  for (const name of Object.keys(outputs)) if (outputs[name]!.length === 0) delete outputs[name];
  return outputs;
}
