import Router from '@koa/router';
import { isFinished, requireScope, ValidationError } from '@blockyard/core';
import type { ExecuteBlockRequest } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { readBody, send, toExecutionBody } from '../contract-io.js';
import type { HttpDeps, HttpOptions } from '../http-deps.js';

export function blocksRoutes(router: Router, deps: HttpDeps, options: Required<HttpOptions>): void {
  const { catalog, executions, validators } = deps;

  router.get('/api/v1/blocks', (ctx) => {
    requireScope(principalOf(ctx), 'READ_BLOCK');
    send(ctx, validators, 200, 'block-list.schema.json', catalog.listBlocks());
  });

  router.get('/api/v1/plugins', (ctx) => {
    requireScope(principalOf(ctx), 'READ_BLOCK');
    send(ctx, validators, 200, 'plugin-list.schema.json', deps.plugins.listPlugins());
  });

  router.get('/api/v1/blocks/:id', (ctx) => {
    requireScope(principalOf(ctx), 'READ_BLOCK');
    send(ctx, validators, 200, 'block-definition.schema.json', catalog.getBlock(ctx.params.id!));
  });

  router.post('/api/v1/blocks/:id/execute', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'EXECUTE_BLOCK');
    const waitSeconds = parseWait(ctx.query.wait, options.maxWaitSeconds);
    const { inputs } = readBody<ExecuteBlockRequest>(ctx, validators, 'execute-block-request.schema.json');
    const execution = await executions.executeBlock(principal.userId, ctx.params.id!, inputs as Record<string, unknown>, { waitMs: waitSeconds * 1000 });
    if (isFinished(execution.status)) return send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution));
    ctx.set('Location', `/api/v1/executions/${execution.id}`);
    send(ctx, validators, 202, 'execute-block-accepted.schema.json', { execution_id: execution.id, status: execution.status });
  });
}

/** The `?wait=` seconds of an execute request: 0 when absent, a 422 when not a number up to `max`. */
export function parseWait(raw: unknown, max: number): number {
  if (raw === undefined) return 0;
  const value = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value > max) {
    throw new ValidationError(`wait must be a number of seconds from 0 to ${max}`, [{ path: '/query/wait', message: `must be a number from 0 to ${max}` }]);
  }
  return value;
}
