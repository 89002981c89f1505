import Router from '@koa/router';
import type { Context } from 'koa';
import { agentInputSchema, agentOutputSchema, NotFoundError, PermissionError, requireScope, ValidationError, type Agent, type AgentLink, type AgentNode, type AgentService, type AgentView, type Principal } from '@blockyard/core';
import type { AgentBlockNodeBody, AgentBody, AgentCreateRequest, AgentInputNodeBody, AgentLinkBody, AgentOutputNodeBody, AgentSummary, AgentUpdateRequest } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { readBody, send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * The caller's agents: create, list, get (latest or `?version=`), update (a new version; a stale
 * `version` is a 409) and delete. READ_GRAPH to read, WRITE_GRAPH to change. Every save
 * validates the whole graph and answers 422 listing all of its problems, storing nothing.
 */
/** A node as the contract's agent-node schema admits it: one of the three kinds. */
type NodeBody = AgentBlockNodeBody | AgentInputNodeBody | AgentOutputNodeBody;
type CreateBody = Omit<AgentCreateRequest, 'nodes'> & { nodes: NodeBody[] };
type UpdateBody = Omit<AgentUpdateRequest, 'nodes'> & { nodes: NodeBody[] };
/** An agent as the API shows it (agent-body.schema.json), its nodes typed by kind. */
export type AgentBodyOut = Omit<AgentBody, 'nodes'> & { nodes: NodeBody[] };

export function agentsRoutes(router: Router, deps: HttpDeps): void {
  const { validators } = deps;
  const agents = (): AgentService => {
    if (!deps.agents) throw new NotFoundError('agent storage is not configured on this server');
    return deps.agents;
  };

  // An app (OAuth access token) saves agents only with credentials it holds grants on.
  const checkAppNodes = async (principal: Principal, nodes: AgentNode[]): Promise<void> => {
    if (!principal.clientId) return;
    if (!deps.externalExecutions) throw new PermissionError("an app's access token cannot save agents on this server");
    await deps.externalExecutions.checkAgentNodes({ userId: principal.userId, clientId: principal.clientId }, nodes);
  };

  router.post('/api/v1/agents', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'WRITE_GRAPH');
    const body = readBody<CreateBody>(ctx, validators, 'agent-create-request.schema.json');
    const nodes = body.nodes.map(toAgentNode);
    await checkAppNodes(principal, nodes);
    const created = await agents().createAgent(principal.userId, { name: body.name, description: body.description, nodes, links: body.links.map(toAgentLink) });
    ctx.set('Location', `/api/v1/agents/${encodeURIComponent(created.agent.id)}`);
    send(ctx, validators, 201, 'agent-body.schema.json', toAgentBody(created));
  });

  router.get('/api/v1/agents', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'READ_GRAPH');
    const limit = positiveIntegerParam(ctx, 'limit');
    const cursor = stringParam(ctx, 'cursor');
    const page = await agents().listAgents(principal.userId, { limit, cursor });
    send(ctx, validators, 200, 'agent-list.schema.json', { agents: page.agents.map(toAgentSummary), next_cursor: page.nextCursor });
  });

  router.get('/api/v1/agents/:id', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'READ_GRAPH');
    const version = positiveIntegerParam(ctx, 'version');
    send(ctx, validators, 200, 'agent-body.schema.json', toAgentBody(await agents().getAgent(principal.userId, ctx.params.id!, version)));
  });

  router.put('/api/v1/agents/:id', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'WRITE_GRAPH');
    const body = readBody<UpdateBody>(ctx, validators, 'agent-update-request.schema.json');
    const nodes = body.nodes.map(toAgentNode);
    await checkAppNodes(principal, nodes);
    const updated = await agents().updateAgent(principal.userId, ctx.params.id!, {
      name: body.name,
      description: body.description,
      nodes,
      links: body.links.map(toAgentLink),
      version: body.version,
    });
    send(ctx, validators, 200, 'agent-body.schema.json', toAgentBody(updated));
  });

  router.delete('/api/v1/agents/:id', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'WRITE_GRAPH');
    // Deleting an active agent deregisters its webhook first (a provider failure is logged, not fatal).
    await deps.triggers?.deactivateIfActive(principal.userId, ctx.params.id!);
    await agents().deleteAgent(principal.userId, ctx.params.id!);
    ctx.status = 204;
  });
}

/** A query parameter that must be a positive integer when present. */
function positiveIntegerParam(ctx: Context, name: string): number | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^[1-9][0-9]{0,8}$/.test(raw)) {
    throw new ValidationError(`query parameter ${name} must be a positive integer`, [{ path: `/${name}`, message: 'must be a positive integer' }]);
  }
  return Number(raw);
}

function stringParam(ctx: Context, name: string): string | undefined {
  const raw = ctx.query[name];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string') throw new ValidationError(`query parameter ${name} must be given once`, [{ path: `/${name}`, message: 'must be given once' }]);
  return raw;
}

/** A node as the API takes it, in the domain's terms (absent fields get their defaults). */
export function toAgentNode(body: NodeBody): AgentNode {
  switch (body.kind) {
    case 'block':
      return { id: body.id, kind: 'block', blockId: body.block_id, inputs: (body.inputs ?? {}) as Record<string, unknown>, credentials: body.credentials ?? {} };
    case 'input':
      return {
        id: body.id,
        kind: 'input',
        name: body.name,
        schema: (body.schema ?? {}) as Record<string, unknown>,
        required: body.required ?? false,
        ...(body.default === undefined ? {} : { default: body.default }),
      };
    case 'output':
      return { id: body.id, kind: 'output', name: body.name, schema: (body.schema ?? {}) as Record<string, unknown> };
  }
}

export function toAgentLink(body: AgentLinkBody): AgentLink {
  return { sourceNodeId: body.source_node_id, sourceOutput: body.source_output, sinkNodeId: body.sink_node_id, sinkInput: body.sink_input, static: body.static ?? false };
}

function toNodeBody(node: AgentNode): NodeBody {
  switch (node.kind) {
    case 'block':
      return { id: node.id, kind: 'block', block_id: node.blockId, inputs: { ...node.inputs }, credentials: { ...node.credentials } };
    case 'input':
      return { id: node.id, kind: 'input', name: node.name, schema: node.schema, required: node.required, ...(node.default === undefined ? {} : { default: node.default }) };
    case 'output':
      return { id: node.id, kind: 'output', name: node.name, schema: node.schema };
  }
}

function toLinkBody(link: AgentLink): AgentLinkBody {
  return { source_node_id: link.sourceNodeId, source_output: link.sourceOutput, sink_node_id: link.sinkNodeId, sink_input: link.sinkInput, static: link.static };
}

/** An agent as the API shows it: the version asked for, with its input and output schemas. */
export function toAgentBody({ agent, version }: AgentView): AgentBodyOut {
  return {
    id: agent.id,
    name: version.name,
    description: version.description,
    version: version.version,
    latest_version: agent.version,
    nodes: version.nodes.map(toNodeBody),
    links: version.links.map(toLinkBody),
    input_schema: agentInputSchema(version),
    output_schema: agentOutputSchema(version),
    created_at: agent.createdAt.toISOString(),
    updated_at: agent.updatedAt.toISOString(),
    version_created_at: version.createdAt.toISOString(),
  };
}

function toAgentSummary(agent: Agent): AgentSummary {
  return { id: agent.id, name: agent.name, description: agent.description, version: agent.version, created_at: agent.createdAt.toISOString(), updated_at: agent.updatedAt.toISOString() };
}
