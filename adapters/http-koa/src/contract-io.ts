import type { Context } from 'koa';
import { formatIssues, type ContractSchemaId, type ContractValidators } from '@blockyard/contracts';
import { UnexpectedError, ValidationError, type Execution, type NodeRun } from '@blockyard/core';
import type { ExecutionBody, NodeRunBody } from '@blockyard/contracts';

/** Validates a request body against its contract schema; a mismatch is a 422 naming the paths. */
export function readBody<T>(ctx: Context, validators: ContractValidators, schema: ContractSchemaId): T {
  const body = (ctx.request as { body?: unknown }).body ?? {};
  const result = validators.validate<T>(schema, body);
  if (!result.ok) throw new ValidationError(`invalid request body: ${formatIssues(result.issues)}`, result.issues);
  return result.value;
}

/** Sends a body after checking it against its contract schema, so the API never drifts from contracts/. */
export function send(ctx: Context, validators: ContractValidators, status: number, schema: ContractSchemaId, body: unknown): void {
  const result = validators.validate(schema, body);
  if (!result.ok) throw new UnexpectedError(`response does not match ${schema}: ${formatIssues(result.issues)}`);
  ctx.status = status;
  ctx.body = body;
}

/** An execution as the API shows it; an agent execution with its node runs when given. */
export function toExecutionBody(e: Execution, nodes?: ReadonlyArray<NodeRun & { blockId: string | null }>): ExecutionBody {
  return {
    execution_id: e.id,
    block_id: e.agent ? null : e.blockId,
    ...(e.agent ? { agent_id: e.agent.id, agent_version: e.agent.version, ...(nodes ? { nodes: nodes.map(toNodeRunBody) } : {}) } : {}),
    status: e.status,
    inputs: e.inputs,
    outputs: e.outputs,
    error: e.error,
    cost_usd: e.costUsd,
    created_at: e.createdAt.toISOString(),
    started_at: e.startedAt?.toISOString() ?? null,
    completed_at: e.completedAt?.toISOString() ?? null,
  };
}

export function toNodeRunBody(run: NodeRun & { blockId: string | null }): NodeRunBody {
  return {
    node_run_id: run.id,
    node_id: run.nodeId,
    block_id: run.blockId,
    status: run.status,
    inputs: run.inputs as Record<string, unknown>,
    outputs: run.outputs as Record<string, unknown[]>,
    error: run.error,
    cost_usd: run.costUsd,
    attempts: run.attempts,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    completed_at: run.completedAt?.toISOString() ?? null,
  };
}
