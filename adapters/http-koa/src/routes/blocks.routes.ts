import Router from '@koa/router';
import { isFinished, PermissionError, requireScope, ValidationError, type ExternalExecutionService, type Principal } from '@blockyard/core';
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
    // An app's token: its credential goes through a live grant of the app, and the execution is the app's.
    const execution = principal.clientId
      ? await appExecutions(deps, principal).executeBlock({ userId: principal.userId, clientId: principal.clientId }, ctx.params.id!, inputs as Record<string, unknown>, { waitMs: waitSeconds * 1000 })
      : await executions.executeBlock(principal.userId, ctx.params.id!, inputs as Record<string, unknown>, { waitMs: waitSeconds * 1000 });
    if (isFinished(execution.status)) return send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution));
    ctx.set('Location', `/api/v1/executions/${execution.id}`);
    send(ctx, validators, 202, 'execute-block-accepted.schema.json', { execution_id: execution.id, status: execution.status });
  });
}

/**
 * The executions of apps (ExternalExecutionService), for an app's access token on /api/v1: its
 * executions go through its grants and are recorded as its own. A PermissionError when this
 * server has none (an app's execution could not be checked).
 */
export function appExecutions(deps: Pick<HttpDeps, 'externalExecutions'>, principal: Principal): ExternalExecutionService {
  if (!deps.externalExecutions) throw new PermissionError(`an app's access token (${principal.clientId}) cannot run executions on this server: credential grants are not available`);
  return deps.externalExecutions;
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
