import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError, PermissionError, requireScope, type AppActor, type Execution, type ExternalExecutionService, type GrantService } from '@blockyard/core';
import type { ExternalExecuteRequest, ExternalExecutionStatus } from '@blockyard/contracts';
import { apiKeyAuth, principalOf } from '../middleware/api-key-auth.js';
import { rateLimited } from '../middleware/rate-limit.js';
import { readBody, send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';
import { toGrantBody } from './grants.routes.js';

/** The external API's scopes (the guide's). */
type AppScope = 'agents:execute' | 'integrations:list' | 'integrations:delete';

/**
 * The external API for apps at /api/external/v1, exactly the guide's table, each route for an
 * app's OAuth access token holding the guide's scope (403 naming it otherwise; an API key is a
 * 403 too: it acts for no app): capabilities, execute an agent, an execution's status, cancel
 * (agents:execute); list and get grants (integrations:list); delete a credential through a
 * grant (integrations:delete). An app sees only its own executions and grants for the token's
 * user: anything else is 404. Also `GET /external-api/v1/blocks` (READ_BLOCK; API keys and
 * bearer tokens), the API guide's path.
 */
export function externalApiRoutes(deps: HttpDeps): Router {
  const { validators } = deps;
  const router = new Router();
  const grants = (): GrantService => {
    if (!deps.grants) throw new NotFoundError('the external API is not available on this server');
    return deps.grants;
  };
  const executions = (): ExternalExecutionService => {
    if (!deps.externalExecutions) throw new NotFoundError('the external API is not available on this server');
    return deps.externalExecutions;
  };
  const auth = apiKeyAuth(deps.apiKeys, deps.bearer);
  router.use('/api/external/v1', auth, rateLimited());
  router.use('/external-api/v1', auth, rateLimited());

  router.get('/api/external/v1/executions/capabilities', async (ctx) => {
    const actor = appActor(ctx, 'agents:execute');
    const live = await grants().listForClient(actor);
    send(ctx, validators, 200, 'external-capabilities.schema.json', {
      user_id: actor.userId,
      client_id: actor.clientId,
      scopes: [...principalOf(ctx).scopes],
      grants: live.map((g) => toGrantBody(g)),
    });
  });

  router.post('/api/external/v1/executions/agents/:agent_id/execute', async (ctx) => {
    const actor = appActor(ctx, 'agents:execute');
    const body = readBody<ExternalExecuteRequest>(ctx, validators, 'external-execute-request.schema.json');
    const { execution, replayed } = await executions().executeAgent(actor, ctx.params.agent_id!, {
      inputs: body.inputs as Record<string, unknown>,
      grantIds: body.grant_ids ?? null,
      webhookUrl: body.webhook_url ?? null,
      idempotencyKey: ctx.get('idempotency-key') || null,
    });
    ctx.set('Location', `/api/external/v1/executions/${encodeURIComponent(execution.id)}`);
    if (replayed) ctx.set('Idempotent-Replayed', 'true');
    send(ctx, validators, 202, 'external-execute-accepted.schema.json', {
      execution_id: execution.id,
      status: execution.status,
      message: replayed ? 'Agent execution already accepted for this Idempotency-Key' : 'Agent execution queued',
    });
  });

  router.get('/api/external/v1/executions/:execution_id', async (ctx) => {
    const actor = appActor(ctx, 'agents:execute');
    send(ctx, validators, 200, 'external-execution-status.schema.json', toExternalExecutionBody(await executions().getExecution(actor, ctx.params.execution_id!)));
  });

  router.post('/api/external/v1/executions/:execution_id/cancel', async (ctx) => {
    const actor = appActor(ctx, 'agents:execute');
    send(ctx, validators, 200, 'external-execution-status.schema.json', toExternalExecutionBody(await executions().cancelExecution(actor, ctx.params.execution_id!)));
  });

  router.get(['/api/external/v1/grants/', '/api/external/v1/grants'], async (ctx) => {
    const actor = appActor(ctx, 'integrations:list');
    const includeRevoked = ctx.query.include_revoked === 'true';
    send(ctx, validators, 200, 'grant-list.schema.json', (await grants().listForClient(actor, { includeRevoked })).map((g) => toGrantBody(g)));
  });

  router.get('/api/external/v1/grants/:grant_id', async (ctx) => {
    const actor = appActor(ctx, 'integrations:list');
    send(ctx, validators, 200, 'grant-body.schema.json', toGrantBody(await grants().getForClient(actor, ctx.params.grant_id!)));
  });

  router.delete('/api/external/v1/grants/:grant_id/credential', async (ctx) => {
    const actor = appActor(ctx, 'integrations:delete');
    const { grant, deletion } = await grants().deleteCredentialViaGrant(actor, ctx.params.grant_id!);
    send(ctx, validators, 200, 'grant-credential-deleted.schema.json', {
      grant_id: grant.id,
      credential_id: grant.credentialId,
      deleted: true,
      revoked: deletion.revoked,
      ...(deletion.detail ? { detail: deletion.detail } : {}),
    });
  });

  router.get(['/external-api/v1/blocks', '/external-api/v1/blocks/'], (ctx) => {
    requireScope(principalOf(ctx), 'READ_BLOCK');
    send(ctx, validators, 200, 'block-list.schema.json', deps.catalog.listBlocks());
  });
  return router;
}

/** The app and user an access token acts for, when it holds `scope`; a PermissionError (403) otherwise. */
function appActor(ctx: Context, scope: AppScope): AppActor {
  const principal = principalOf(ctx);
  if (!principal.clientId) throw new PermissionError("the external API takes an app's OAuth access token (Authorization: Bearer); API keys use /api/v1");
  if (!principal.scopes.has(scope)) {
    ctx.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scope}"`);
    throw new PermissionError(`this access token lacks the ${scope} scope`);
  }
  return { userId: principal.userId, clientId: principal.clientId };
}

/** An execution as the external API shows it (the guide's fields). */
export function toExternalExecutionBody(e: Execution): ExternalExecutionStatus {
  return {
    execution_id: e.id,
    agent_id: e.agent?.id ?? null,
    agent_version: e.agent?.version ?? null,
    status: e.status,
    created_at: e.createdAt.toISOString(),
    started_at: e.startedAt?.toISOString() ?? null,
    completed_at: e.completedAt?.toISOString() ?? null,
    outputs: e.outputs,
    error: e.error,
  };
}
