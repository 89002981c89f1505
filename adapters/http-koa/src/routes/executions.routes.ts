import Router from '@koa/router';
import { isFinished, requireScope, type AppActor, type Principal } from '@blockyard/core';
import type { ExecuteAgentRequest } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { readBody, send, toExecutionBody } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';
import { appExecutions, parseWait } from './blocks.routes.js';

export function executionsRoutes(router: Router, deps: HttpDeps, options: { maxWaitSeconds: number }): void {
  const { executions, validators } = deps;

  router.get('/api/v1/executions/:id', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'READ_RUN');
    // An app sees only the executions recorded as its own (404 for the user's and other apps').
    const app = actorOf(principal);
    const execution = app ? await appExecutions(deps, principal).getExecution(app, ctx.params.id!) : await executions.getExecution(principal.userId, ctx.params.id!);
    send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution, await executions.nodeRunsOf(execution)));
  });

  router.post('/api/v1/executions/:id/cancel', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'WRITE_RUN');
    const app = actorOf(principal);
    const execution = app ? await appExecutions(deps, principal).cancelExecution(app, ctx.params.id!) : await executions.cancelExecution(principal.userId, ctx.params.id!);
    send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution));
  });

  /** Runs the caller's agent: 202 with the queued execution, or 200 with it finished within ?wait=. */
  router.post('/api/v1/agents/:id/execute', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'RUN_AGENT');
    const waitSeconds = parseWait(ctx.query.wait, options.maxWaitSeconds);
    const { inputs, version } = readBody<ExecuteAgentRequest>(ctx, validators, 'execute-agent-request.schema.json');
    // An app's token: the external API's grant validation, and the execution is recorded as the app's.
    const app = actorOf(principal);
    const execution = app
      ? await appExecutions(deps, principal).executeAgentWaiting(app, ctx.params.id!, inputs as Record<string, unknown>, { waitMs: waitSeconds * 1000, version })
      : await executions.executeAgent(principal.userId, ctx.params.id!, inputs as Record<string, unknown>, { waitMs: waitSeconds * 1000, version });
    if (isFinished(execution.status)) return send(ctx, validators, 200, 'execution.schema.json', toExecutionBody(execution, await executions.nodeRunsOf(execution)));
    ctx.set('Location', `/api/v1/executions/${execution.id}`);
    send(ctx, validators, 202, 'execute-block-accepted.schema.json', { execution_id: execution.id, status: execution.status });
  });
}

/** The app and user of an app's access token; null for an API key (the user acting for themselves). */
function actorOf(principal: Principal): AppActor | null {
  return principal.clientId ? { userId: principal.userId, clientId: principal.clientId } : null;
}
