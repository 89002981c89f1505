import Router from '@koa/router';
import { requireScope } from '@blockyard/core';
import { principalOf } from '../middleware/api-key-auth.js';
import { send, toExecutionBody } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

export function executionsRoutes(router: Router, deps: HttpDeps): void {
  const { executions, validators } = deps;

  router.get('/api/v1/executions/:id', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'READ_RUN');
    const execution = await executions.getExecution(principal.userId, ctx.params.id!);
    send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution));
  });

  router.post('/api/v1/executions/:id/cancel', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'WRITE_RUN');
    const execution = await executions.cancelExecution(principal.userId, ctx.params.id!);
    send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution));
  });
}
