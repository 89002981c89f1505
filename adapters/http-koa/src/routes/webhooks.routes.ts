import Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { DomainError, NotFoundError, requireScope, type AgentTriggerService, type WebhookDelivery, type WebhookRegistration } from '@blockyard/core';
import type { AgentActivateRequest, WebhookBody, WebhookDeactivated, WebhookIngressResult } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { readBody, send } from '../contract-io.js';
import { refuseApp } from './credentials.routes.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * Inbound provider webhooks at `POST /webhooks/:provider/:webhookId`: no API key (the
 * provider's signature over the raw body authenticates a delivery). Mounted before the JSON
 * body parser, so that the exact bytes received are what the signature is checked over.
 * 404 unknown webhook, 413 body over `bodyLimitBytes`, 401 bad or missing signature, 202
 * accepted or ignored, 200 duplicate delivery or a provider's handshake (GitHub ping).
 */
export function webhookIngress(deps: HttpDeps, options: { bodyLimitBytes: number }) {
  const router = new Router();
  router.post('/webhooks/:provider/:webhookId', async (ctx) => {
    const triggers = deps.triggers;
    if (!triggers) throw new NotFoundError('inbound webhooks are not configured on this server');
    let outcome;
    try {
      outcome = await triggers.ingest(ctx.params.provider!, ctx.params.webhookId!, () => readDelivery(ctx, options.bodyLimitBytes));
    } catch (e) {
      // A webhook sender is no API client: no WWW-Authenticate challenge for X-API-Key.
      if (DomainError.is(e, 'unauthorized')) {
        ctx.status = 401;
        ctx.body = { detail: e.message };
        return;
      }
      throw e;
    }
    switch (outcome.kind) {
      case 'handshake':
        ctx.status = outcome.status;
        ctx.body = outcome.body ?? '';
        return;
      case 'ignored':
        return sendResult(ctx, deps, 202, { status: 'ignored', detail: outcome.detail });
      case 'duplicate':
        return sendResult(ctx, deps, 200, { status: 'duplicate', execution_id: outcome.executionId });
      case 'accepted':
        return sendResult(ctx, deps, 202, { status: 'accepted', execution_ids: [...outcome.executionIds] });
    }
  });
  return router.routes();
}

function sendResult(ctx: Context, deps: HttpDeps, status: number, body: WebhookIngressResult): void {
  send(ctx, deps.validators, status, 'webhook-ingress-result.schema.json', body);
}

/** The delivery as received: lower-cased headers, the raw bytes (at most `limit`: else 413), the body parsed when it can be. */
async function readDelivery(ctx: Context, limit: number): Promise<WebhookDelivery> {
  const length = ctx.get('content-length');
  const rawBody = await getRawBody(ctx.req, { limit, length: length && /^\d+$/.test(length) ? Number(length) : null });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { headers, rawBody, body: parseBody(ctx.get('content-type'), rawBody) };
}

function parseBody(contentType: string, raw: Buffer): unknown {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/json' || type.endsWith('+json')) return JSON.parse(raw.toString('utf8'));
    if (type === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  } catch {
    /* the manager reads the raw body if it wants to */
  }
  return undefined;
}

/**
 * Activating agents: `POST /api/v1/agents/:id/activate` (WRITE_GRAPH; 201 with the
 * registration, its URL and, in manual mode, the secret to paste, shown this once),
 * `POST /api/v1/agents/:id/deactivate` (WRITE_GRAPH; 200 saying whether the provider's webhook
 * was removed too) and `GET /api/v1/agents/:id/webhook` (READ_GRAPH; never the secret).
 */
export function webhooksRoutes(router: Router, deps: HttpDeps): void {
  const { validators } = deps;
  const triggers = (): AgentTriggerService => {
    if (!deps.triggers) throw new NotFoundError('agent triggers are not configured on this server');
    return deps.triggers;
  };

  router.post('/api/v1/agents/:id/activate', async (ctx) => {
    const principal = principalOf(ctx);
    refuseApp(principal); // registers (or removes) a webhook at the provider with the user's credential
    requireScope(principal, 'WRITE_GRAPH');
    const body = readBody<AgentActivateRequest>(ctx, validators, 'agent-activate-request.schema.json');
    const activation = await triggers().activate(principal.userId, ctx.params.id!, {
      mode: body.mode,
      config: body.config as Record<string, unknown> | undefined,
      secret: body.secret,
    });
    const out: WebhookBody = { ...toWebhookBody(activation.registration, activation.url), ...(activation.secret === null ? {} : { secret: activation.secret }) };
    ctx.set('Cache-Control', 'no-store');
    send(ctx, validators, 201, 'webhook-body.schema.json', out);
  });

  router.post('/api/v1/agents/:id/deactivate', async (ctx) => {
    const principal = principalOf(ctx);
    refuseApp(principal); // registers (or removes) a webhook at the provider with the user's credential
    requireScope(principal, 'WRITE_GRAPH');
    const { registration, deregistered, detail } = await triggers().deactivate(principal.userId, ctx.params.id!);
    const out: WebhookDeactivated = { webhook_id: registration.id, agent_id: registration.agentId, deactivated: true, deregistered, ...(detail ? { detail } : {}) };
    send(ctx, validators, 200, 'webhook-deactivated.schema.json', out);
  });

  router.get('/api/v1/agents/:id/webhook', async (ctx) => {
    const principal = principalOf(ctx);
    requireScope(principal, 'READ_GRAPH');
    const { registration, url } = await triggers().getWebhook(principal.userId, ctx.params.id!);
    send(ctx, validators, 200, 'webhook-body.schema.json', toWebhookBody(registration, url));
  });
}

/** A registration as the API shows it: never its secret. */
function toWebhookBody(registration: WebhookRegistration, url: string): WebhookBody {
  return {
    webhook_id: registration.id,
    agent_id: registration.agentId,
    trigger_node_id: registration.triggerNodeId,
    block_id: registration.blockId,
    provider: registration.provider,
    mode: registration.mode,
    events: [...registration.events],
    url,
    status: registration.status,
    external_id: registration.externalId,
    created_at: registration.createdAt.toISOString(),
  };
}
