import type { Context } from 'koa';
import { formatIssues, type ContractSchemaId, type ContractValidators } from '@blockyard/contracts';
import { UnexpectedError, ValidationError, type Execution } from '@blockyard/core';
import type { ExecutionBody } from '@blockyard/contracts';

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

export function toExecutionBody(e: Execution): ExecutionBody {
  return {
    execution_id: e.id,
    block_id: e.blockId,
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
