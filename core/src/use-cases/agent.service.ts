import type { Agent, AgentLink, AgentNode, AgentVersion } from '../agent/agent.js';
import { validateAgentGraph, type AgentBlockLookup, type AgentCredentialInfo } from '../agent/agent-graph.validator.js';
import type { AgentPageCursor, AgentRepository } from '../agent/agent.repository.port.js';
import type { CredentialRepository } from '../credential/credential.repository.port.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors/domain.errors.js';
import type { Clock } from '../system/clock.port.js';
import type { IdGenerator } from '../system/id-generator.port.js';

/** A new agent as the caller describes it. */
export interface AgentDraft {
  name: string;
  description?: string;
  nodes: readonly AgentNode[];
  links: readonly AgentLink[];
}

/** A new version of an agent: the whole graph; name and description kept when absent. */
export interface AgentUpdate {
  name?: string;
  description?: string;
  nodes: readonly AgentNode[];
  links: readonly AgentLink[];
  /** The version the update is based on; a later latest version is a ConflictError. */
  version?: number;
}

/** An agent and one of its versions (the latest unless another was asked for). */
export interface AgentView {
  readonly agent: Agent;
  readonly version: AgentVersion;
}

/** A page of a user's agents, newest first, and where the next page starts (null: no more). */
export interface AgentPage {
  readonly agents: readonly Agent[];
  readonly nextCursor: string | null;
}

export interface AgentServiceDeps {
  agents: AgentRepository;
  blocks: AgentBlockLookup;
  /** Where the credentials nodes name are looked up; null: no credential storage (every named one is not found). */
  credentials: CredentialRepository | null;
  /** Providers with a system credential, for nodes that name none. */
  systemCredentials?: { readonly providers: readonly string[] };
  clock: Clock;
  ids: IdGenerator;
}

export const DEFAULT_AGENT_PAGE_SIZE = 50;
export const MAX_AGENT_PAGE_SIZE = 100;
const UPDATE_ATTEMPTS = 3;

/**
 * Use cases createAgent, updateAgent, getAgent, listAgents, deleteAgent. Every save validates
 * the whole graph first and reports all of its problems; every update adds a version. Another
 * user's agent is not found.
 */
export class AgentService {
  constructor(private readonly deps: AgentServiceDeps) {}

  async createAgent(userId: string, draft: AgentDraft): Promise<AgentView> {
    const name = nameOf(draft.name);
    await this.validate(userId, draft);
    const now = this.deps.clock.now();
    const id = this.deps.ids.next();
    const agent: Agent = { id, userId, name, description: draft.description ?? '', version: 1, createdAt: now, updatedAt: now };
    const version: AgentVersion = { agentId: id, version: 1, name, description: agent.description, nodes: draft.nodes, links: draft.links, createdAt: now };
    await this.deps.agents.create(agent, version);
    return { agent, version };
  }

  /**
   * Saves the graph as the agent's next version. With `update.version`, a latest version other
   * than it is a ConflictError (someone saved meanwhile); without, the update applies to the
   * latest version, whichever it is.
   */
  async updateAgent(userId: string, agentId: string, update: AgentUpdate): Promise<AgentView> {
    if (update.name !== undefined) nameOf(update.name);
    let validated = false;
    for (let attempt = 1; ; attempt++) {
      const current = await this.ownAgent(userId, agentId);
      if (update.version !== undefined && update.version !== current.version) {
        throw new ConflictError(`agent ${agentId} is at version ${current.version}, not ${update.version}: fetch it and apply your change again`);
      }
      if (!validated) {
        await this.validate(userId, update);
        validated = true;
      }
      const version: AgentVersion = {
        agentId,
        version: current.version + 1,
        name: update.name === undefined ? current.name : nameOf(update.name),
        description: update.description ?? current.description,
        nodes: update.nodes,
        links: update.links,
        createdAt: this.deps.clock.now(),
      };
      try {
        const agent = await this.deps.agents.addVersion(version, current.version);
        return { agent, version };
      } catch (e) {
        // Without a base version the caller asked for "on top of the latest": try again.
        if (!(e instanceof ConflictError) || update.version !== undefined || attempt >= UPDATE_ATTEMPTS) throw e;
      }
    }
  }

  /** The caller's agent with its latest version, or the version asked for. */
  async getAgent(userId: string, agentId: string, version?: number): Promise<AgentView> {
    const agent = await this.ownAgent(userId, agentId);
    const wanted = version ?? agent.version;
    if (!Number.isInteger(wanted) || wanted < 1 || wanted > agent.version) {
      throw new NotFoundError(`agent ${agentId} has no version ${version} (its latest is ${agent.version})`);
    }
    const stored = await this.deps.agents.getVersion(agentId, wanted);
    if (!stored) throw new NotFoundError(`agent ${agentId} has no version ${wanted}`);
    return { agent, version: stored };
  }

  /** The caller's agents, newest first, `limit` (default 50, at most 100) at a time. */
  async listAgents(userId: string, page: { limit?: number; cursor?: string | null } = {}): Promise<AgentPage> {
    const limit = page.limit ?? DEFAULT_AGENT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AGENT_PAGE_SIZE) {
      throw new ValidationError(`limit must be an integer from 1 to ${MAX_AGENT_PAGE_SIZE}`, [{ path: '/limit', message: `must be an integer from 1 to ${MAX_AGENT_PAGE_SIZE}` }]);
    }
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const agents = await this.deps.agents.listByUser(userId, { limit: limit + 1, after });
    const more = agents.length > limit;
    const shown = more ? agents.slice(0, limit) : agents;
    const last = shown[shown.length - 1];
    return { agents: shown, nextCursor: more && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null };
  }

  /** Deletes the caller's agent: it is no longer found or listed; its versions stay for executions. */
  async deleteAgent(userId: string, agentId: string): Promise<void> {
    await this.ownAgent(userId, agentId);
    if (!(await this.deps.agents.delete(agentId, this.deps.clock.now()))) throw new NotFoundError(`agent ${agentId} not found`);
  }

  private async ownAgent(userId: string, agentId: string): Promise<Agent> {
    const agent = await this.deps.agents.get(agentId);
    if (!agent || agent.userId !== userId) throw new NotFoundError(`agent ${agentId} not found`);
    return agent;
  }

  /** Fetches the credentials the graph names (the caller's only) and validates the graph. */
  private async validate(userId: string, graph: Pick<AgentDraft, 'nodes' | 'links'>): Promise<void> {
    const ids = new Set<string>();
    for (const node of graph.nodes) if (node.kind === 'block') for (const id of Object.values(node.credentials)) ids.add(id);
    const found = new Map<string, AgentCredentialInfo>();
    const repository = this.deps.credentials;
    if (repository) {
      const fetched = await Promise.all([...ids].map((id) => repository.get(id)));
      for (const credential of fetched) {
        if (credential && credential.userId === userId) found.set(credential.id, { id: credential.id, provider: credential.provider, kind: credential.kind, scopes: credential.scopes });
      }
    }
    const error = validateAgentGraph(graph, { blocks: this.deps.blocks, credentials: found, systemCredentialProviders: this.deps.systemCredentials?.providers });
    if (error) throw error;
  }
}

function nameOf(name: string): string {
  const trimmed = name.trim();
  if (!trimmed) throw new ValidationError('an agent needs a name', [{ path: '/name', message: 'must not be blank' }]);
  return trimmed;
}

/** An opaque page cursor: the last agent's creation time and id. */
function encodeCursor(cursor: AgentPageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.getTime(), cursor.id])).toString('base64url');
}

function decodeCursor(cursor: string): AgentPageCursor {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof ms === 'number' && Number.isFinite(ms) && typeof id === 'string') return { createdAt: new Date(ms), id };
  } catch {
    /* reported below */
  }
  throw new ValidationError('cursor is not one this API gave out', [{ path: '/cursor', message: 'is invalid' }]);
}
