import { createAjv, toIssues, type SchemaIssue, type ValidateFunction } from '@blockyard/contracts';
import type { BlockRegistry } from '../block/block-registry.port.js';
import { NotFoundError } from '../errors/domain.errors.js';
import { agentInputSchema, type AgentVersion, type BlockNode } from './agent.js';
import { AgentPlan } from './agent-run.js';
import type { AgentRepository } from './agent.repository.port.js';

/** A version of an agent ready to run: its indexed graph and its input validator. */
export interface LoadedPlan {
  readonly version: AgentVersion;
  readonly plan: AgentPlan;
  /** Validates (and fills defaults into) the execution's inputs; the issues, or null when valid. */
  validateInputs(inputs: Record<string, unknown>): SchemaIssue[] | null;
  isTrigger(node: BlockNode): boolean;
}

/**
 * Agent versions indexed for scheduling, kept per process: a version never changes, so each is
 * loaded and compiled once (the most recently used `capacity` stay).
 */
export class AgentPlans {
  readonly #plans = new Map<string, Promise<LoadedPlan>>();
  readonly #ajv = createAjv();

  constructor(
    private readonly deps: { agents: AgentRepository; registry: BlockRegistry },
    private readonly capacity = 500,
  ) {}

  get(agentId: string, version: number): Promise<LoadedPlan> {
    const key = `${agentId}@${version}`;
    let loaded = this.#plans.get(key);
    if (loaded) {
      this.#plans.delete(key);
      this.#plans.set(key, loaded);
      return loaded;
    }
    loaded = this.#load(agentId, version);
    loaded.catch(() => this.#plans.delete(key));
    this.#plans.set(key, loaded);
    if (this.#plans.size > this.capacity) this.#plans.delete(this.#plans.keys().next().value!);
    return loaded;
  }

  async #load(agentId: string, version: number): Promise<LoadedPlan> {
    const stored = await this.deps.agents.getVersion(agentId, version);
    if (!stored) throw new NotFoundError(`agent ${agentId} has no version ${version}`);
    const validate: ValidateFunction = this.#ajv.compile(agentInputSchema(stored));
    const registry = this.deps.registry;
    return {
      version: stored,
      plan: new AgentPlan(stored),
      validateInputs(inputs) {
        return validate(inputs) ? null : toIssues(validate.errors);
      },
      isTrigger: (node) => registry.get(node.blockId)?.definition.kind === 'trigger',
    };
  }
}
