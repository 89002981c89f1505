import { ConflictError, NotFoundError, type Agent, type AgentPageCursor, type AgentRepository, type AgentVersion } from '@blockyard/core';

interface StoredAgent {
  agent: Agent;
  deletedAt: Date | null;
  versions: Map<number, AgentVersion>;
}

/** Agents and their versions in Maps. Stores and returns copies; `addVersion` is a compare-and-set on the latest version. */
export class InMemoryAgentRepository implements AgentRepository {
  private readonly byId = new Map<string, StoredAgent>();

  async create(agent: Agent, first: AgentVersion): Promise<void> {
    if (this.byId.has(agent.id)) throw new ConflictError(`agent ${agent.id} already exists`);
    this.byId.set(agent.id, { agent: structuredClone(agent), deletedAt: null, versions: new Map([[first.version, structuredClone(first)]]) });
  }

  async addVersion(version: AgentVersion, expectedVersion: number): Promise<Agent> {
    const stored = this.byId.get(version.agentId);
    if (!stored || stored.deletedAt) throw new NotFoundError(`agent ${version.agentId} not found`);
    if (stored.agent.version !== expectedVersion) {
      throw new ConflictError(`agent ${version.agentId} is at version ${stored.agent.version}, not ${expectedVersion}`);
    }
    if (version.version !== expectedVersion + 1) throw new ConflictError(`agent ${version.agentId}: version ${version.version} does not follow ${expectedVersion}`);
    const agent: Agent = { ...stored.agent, name: version.name, description: version.description, version: version.version, updatedAt: new Date(version.createdAt) };
    stored.agent = agent;
    stored.versions.set(version.version, structuredClone(version));
    return structuredClone(agent);
  }

  async get(id: string): Promise<Agent | null> {
    const stored = this.byId.get(id);
    return stored && !stored.deletedAt ? structuredClone(stored.agent) : null;
  }

  async getVersion(agentId: string, version: number): Promise<AgentVersion | null> {
    const found = this.byId.get(agentId)?.versions.get(version);
    return found ? structuredClone(found) : null;
  }

  async listByUser(userId: string, page: { limit: number; after?: AgentPageCursor | null }): Promise<Agent[]> {
    if (page.limit <= 0) return [];
    const { after } = page;
    return [...this.byId.values()]
      .filter((s) => !s.deletedAt && s.agent.userId === userId)
      .map((s) => s.agent)
      .filter((a) => !after || newestFirst(a, { createdAt: after.createdAt, id: after.id }) > 0)
      .sort(newestFirst)
      .slice(0, page.limit)
      .map((a) => structuredClone(a));
  }

  async delete(id: string, at: Date): Promise<boolean> {
    const stored = this.byId.get(id);
    if (!stored || stored.deletedAt) return false;
    stored.deletedAt = new Date(at);
    return true;
  }
}

/** Negative when `a` comes before `b`: later createdAt first, then the greater id. */
function newestFirst(a: Pick<Agent, 'createdAt' | 'id'>, b: Pick<Agent, 'createdAt' | 'id'>): number {
  return b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}
