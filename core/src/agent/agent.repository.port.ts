import type { Agent, AgentVersion } from './agent.js';

/** Where a page of a user's agents starts: after this agent, in newest-first order. */
export interface AgentPageCursor {
  readonly createdAt: Date;
  readonly id: string;
}

/**
 * Agents and their immutable versions. An agent's row holds its owner and latest version;
 * each update adds a version. Deleting is soft: a deleted agent is no longer found or listed,
 * but its versions stay readable, because executions record the version they ran.
 */
export interface AgentRepository {
  /**
   * Stores a new agent with its first version (`agent.version` and `first.version` are 1,
   * `first.agentId` is `agent.id`). A duplicate id is a ConflictError.
   */
  create(agent: Agent, first: AgentVersion): Promise<void>;
  /**
   * Adds `version` (its number `expectedVersion + 1`) and makes it the agent's latest, with
   * the version's name and description and `updatedAt` = the version's `createdAt`, when
   * the agent's latest version is still `expectedVersion` (compare-and-set: of concurrent
   * updates exactly one wins). A moved version is a ConflictError, an unknown or deleted
   * agent a NotFoundError; either way nothing changes. Answers the updated agent.
   */
  addVersion(version: AgentVersion, expectedVersion: number): Promise<Agent>;
  /** The agent, or null when unknown or deleted. */
  get(id: string): Promise<Agent | null>;
  /** One version of an agent, also of a deleted agent; null when there is no such version. */
  getVersion(agentId: string, version: number): Promise<AgentVersion | null>;
  /** Up to `limit` of the user's agents (not deleted), newest first (by createdAt, then id), after `after`. */
  listByUser(userId: string, page: { limit: number; after?: AgentPageCursor | null }): Promise<Agent[]>;
  /** Marks the agent deleted at `at`; false when it is unknown or already deleted. */
  delete(id: string, at: Date): Promise<boolean>;
}
export const AgentRepository = Symbol.for('blockyard/AgentRepository');
