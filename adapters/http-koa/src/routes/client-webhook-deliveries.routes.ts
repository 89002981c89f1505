import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError, ValidationError, type ClientWebhookDelivery, type ClientWebhookService } from '@blockyard/core';
import type { ClientWebhookDeliveryBody } from '@blockyard/contracts';
import { principalOf } from '../middleware/api-key-auth.js';
import { ownerAuth } from '../middleware/owner-auth.js';
import { send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * GET /oauth/clients/:client_id/webhook-deliveries: the outbound webhooks of one of the user's
 * clients, newest first, with status and attempts (`?status=pending|delivered|failed|disabled`,
 * `?limit=1..100` (default 50), `?before=<delivery id>` for the next page). For the client's
 * owner, authenticated as for client management; another user's client answers 404.
 */
export function clientWebhookDeliveriesRoutes(deps: HttpDeps): Router {
  const { validators } = deps;
  const router = new Router();
  const webhooks = (): ClientWebhookService => {
    if (!deps.clientWebhooks) throw new NotFoundError('outbound webhooks are not available on this server');
    return deps.clientWebhooks;
  };
  const auth = ownerAuth({ apiKeys: deps.apiKeys, sessions: deps.sessions, bearer: deps.bearer, what: 'listing webhook deliveries' });

  router.get('/oauth/clients/:client_id/webhook-deliveries', auth, async (ctx) => {
    const page = await webhooks().listDeliveries(principalOf(ctx).userId, ctx.params.client_id!, {
      status: queryString(ctx, 'status'),
      limit: queryLimit(ctx),
      before: queryString(ctx, 'before') ?? null,
    });
    const maxAttempts = webhooks().maxAttempts;
    send(ctx, validators, 200, 'client-webhook-delivery-list.schema.json', { deliveries: page.deliveries.map((d) => toClientWebhookDeliveryBody(d, maxAttempts)), next_before: page.nextBefore });
  });
  return router;
}

/** A delivery as the client's owner sees it: never its body (another user's execution outputs) or a signature. */
export function toClientWebhookDeliveryBody(d: ClientWebhookDelivery, maxAttempts: number): ClientWebhookDeliveryBody {
  return {
    id: d.id,
    event: d.event,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    max_attempts: maxAttempts,
    timestamp: d.timestamp,
    next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
    last_status: d.lastStatus,
    last_error: d.lastError,
    created_at: d.createdAt.toISOString(),
    updated_at: d.updatedAt.toISOString(),
    delivered_at: d.deliveredAt?.toISOString() ?? null,
  };
}

function queryString(ctx: Context, name: string): string | undefined {
  const raw = ctx.query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string') throw new ValidationError(`${name} must be given once`, [{ path: `/${name}`, message: 'must be given once' }]);
  return raw;
}

function queryLimit(ctx: Context): number | undefined {
  const raw = queryString(ctx, 'limit');
  if (raw === undefined) return undefined;
  if (!/^\d{1,4}$/.test(raw)) throw new ValidationError('limit must be a whole number from 1 to 100', [{ path: '/limit', message: 'must be from 1 to 100' }]);
  return Number(raw);
}
