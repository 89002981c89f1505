import type { Context, Next } from 'koa';
import { DomainError, RateLimitedError, type DomainErrorKind, type Logger } from '@blockyard/core';

/** The one place where domain error kinds become HTTP statuses. */
export const STATUS_OF_KIND: Record<DomainErrorKind, number> = {
  not_found: 404,
  invalid_input: 422,
  conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  rate_limited: 429,
  unexpected: 500,
};

/**
 * Turns whatever a handler throws into `{ "detail": "..." }` with the right status. Unknown
 * errors are logged with their stack and answered 500 without it.
 */
export function errorMapper(logger: Logger) {
  return async function errorMapperMiddleware(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (e) {
      if (DomainError.is(e)) {
        ctx.status = STATUS_OF_KIND[e.kind];
        ctx.body = { detail: e.message };
        if (e instanceof RateLimitedError && e.retryAfterSeconds) ctx.set('Retry-After', String(e.retryAfterSeconds));
        if (e.kind === 'unauthorized') ctx.set('WWW-Authenticate', ctx.state.bearerRejected ? 'Bearer error="invalid_token"' : 'ApiKey header="X-API-Key"');
        if (e.kind === 'unexpected') logger.error('unexpected domain error', { requestId: ctx.state.requestId, error: e.message });
        return;
      }
      const status = httpStatusOf(e);
      if (status && status < 500) {
        ctx.status = status;
        ctx.body = { detail: clientMessage(status, e) };
        return;
      }
      logger.error('request failed', { requestId: ctx.state.requestId, method: ctx.method, path: ctx.path, error: e instanceof Error ? e.stack : String(e) });
      ctx.status = 500;
      ctx.body = { detail: `internal error (request id ${String(ctx.state.requestId)})` };
    }
  };
}

function httpStatusOf(e: unknown): number | undefined {
  const status = (e as { status?: unknown; statusCode?: unknown })?.status ?? (e as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

function clientMessage(status: number, e: unknown): string {
  const type = (e as { type?: string }).type;
  if (status === 413 || type === 'entity.too.large') return 'request body is too large';
  if (status === 400 && (type === 'entity.parse.failed' || e instanceof SyntaxError)) return 'malformed JSON in request body';
  if (status === 415) return 'unsupported content type: send application/json';
  return (e as Error).message || 'bad request';
}
