import { ConflictError, NotFoundError, type Agent, type AgentLink, type AgentNode, type AgentPageCursor, type AgentRepository, type AgentVersion } from '@blockyard/core';
import type { Knex } from 'knex';
import type { DbDate, RowCodec } from './row-codec.js';
import type { ReadRunner } from './read-runner.js';
import { rethrowUniqueViolation } from './unique-violation.js';
import type { WriteRunner } from './write-runner.js';

interface AgentRow {
  id: string;
  user_id: string;
  name: string;
  description: string;
  version: number;
  created_at: DbDate;
  updated_at: DbDate;
  deleted_at: DbDate | null;
}

interface AgentVersionRow {
  agent_id: string;
  version: number;
  name: string;
  description: string;
  /** JSON array of the graph's nodes, in the domain's shape. */
  nodes: unknown;
  /** JSON array of the graph's links. */
  links: unknown;
  created_at: DbDate;
}

/**
 * Agents in `agents` (owner and latest version; deleted_at for a soft delete) and their saved
 * graphs in `agent_versions`. `addVersion` is a compare-and-set on agents.version in one transaction.
 */
export class KnexAgentRepository implements AgentRepository {
  constructor(
    /** Reads: on SQLite a separate pool, so reads never wait behind a committing write batch. */
    private readonly reads: ReadRunner,
    private readonly writes: WriteRunner,
    private readonly codec: RowCodec,
  ) {}

  async create(agent: Agent, first: AgentVersion): Promise<void> {
    const row = this.toRow(agent);
    const versionRow = this.toVersionRow(first);
    await this.writes
      .run(async (db) => {
        await db<AgentRow>('agents').insert(row);
        await db<AgentVersionRow>('agent_versions').insert(versionRow);
      })
      .catch((error: unknown) => rethrowUniqueViolation(error, () => `agent ${agent.id} already exists`));
  }

  async addVersion(version: AgentVersion, expectedVersion: number): Promise<Agent> {
    if (version.version !== expectedVersion + 1) throw new ConflictError(`agent ${version.agentId}: version ${version.version} does not follow ${expectedVersion}`);
    const versionRow = this.toVersionRow(version);
    const row = await this.writes.run(async (db) => {
      const changed = await db<AgentRow>('agents')
        .where({ id: version.agentId, version: expectedVersion })
        .whereNull('deleted_at')
        .update({ name: version.name, description: version.description, version: version.version, updated_at: versionRow.created_at });
      if (changed === 0) {
        const current = await db<AgentRow>('agents').where('id', version.agentId).first();
        if (!current || current.deleted_at !== null) throw new NotFoundError(`agent ${version.agentId} not found`);
        throw new ConflictError(`agent ${version.agentId} is at version ${current.version}, not ${expectedVersion}`);
      }
      await db<AgentVersionRow>('agent_versions').insert(versionRow);
      return (await db<AgentRow>('agents').where('id', version.agentId).first()) as AgentRow;
    });
    return this.toAgent(row);
  }

  async get(id: string): Promise<Agent | null> {
    const row = await this.reads.first<AgentRow>(this.reads.knex<AgentRow>('agents').where('id', id).whereNull('deleted_at'));
    return row ? this.toAgent(row) : null;
  }

  async getVersion(agentId: string, version: number): Promise<AgentVersion | null> {
    const row = await this.reads.first<AgentVersionRow>(this.reads.knex<AgentVersionRow>('agent_versions').where({ agent_id: agentId, version }));
    return row ? this.toVersion(row) : null;
  }

  async listByUser(userId: string, page: { limit: number; after?: AgentPageCursor | null }): Promise<Agent[]> {
    if (page.limit <= 0) return [];
    const query = this.reads
      .knex<AgentRow>('agents')
      .where('user_id', userId)
      .whereNull('deleted_at')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(page.limit);
    const { after } = page;
    if (after) {
      const at = this.codec.date(after.createdAt);
      query.where((q: Knex.QueryBuilder) => q.where('created_at', '<', at).orWhere((same: Knex.QueryBuilder) => same.where('created_at', at).andWhere('id', '<', after.id)));
    }
    const rows = await this.reads.all<AgentRow>(query);
    return rows.map((row) => this.toAgent(row));
  }

  async delete(id: string, at: Date): Promise<boolean> {
    const deletedAt = this.codec.date(at);
    const changed = await this.writes.runStatement<number>((db) => db<AgentRow>('agents').where('id', id).whereNull('deleted_at').update({ deleted_at: deletedAt }));
    return changed > 0;
  }

  private toRow(agent: Agent): AgentRow {
    const { codec } = this;
    return {
      id: agent.id,
      user_id: agent.userId,
      name: agent.name,
      description: agent.description,
      version: agent.version,
      created_at: codec.date(agent.createdAt),
      updated_at: codec.date(agent.updatedAt),
      deleted_at: null,
    };
  }

  private toAgent(row: AgentRow): Agent {
    const { codec } = this;
    return {
      id: row.id,
      userId: row.user_id,
      name: row.name,
      description: row.description,
      version: Number(row.version),
      createdAt: codec.readDate(row.created_at),
      updatedAt: codec.readDate(row.updated_at),
    };
  }

  private toVersionRow(version: AgentVersion): AgentVersionRow {
    const { codec } = this;
    return {
      agent_id: version.agentId,
      version: version.version,
      name: version.name,
      description: version.description,
      nodes: codec.json(version.nodes),
      links: codec.json(version.links),
      created_at: codec.date(version.createdAt),
    };
  }

  private toVersion(row: AgentVersionRow): AgentVersion {
    const { codec } = this;
    return {
      agentId: row.agent_id,
      version: Number(row.version),
      name: row.name,
      description: row.description,
      nodes: codec.readJson<AgentNode[]>(row.nodes),
      links: codec.readJson<AgentLink[]>(row.links),
      createdAt: codec.readDate(row.created_at),
    };
  }
}
