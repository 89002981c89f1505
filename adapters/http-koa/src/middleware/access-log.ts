import type { Context, Next } from 'koa';
import type { Logger } from '@blockyard/core';

/** One structured line per request: method, path (no query: it may hold secrets), status, time. */
export function accessLog(logger: Logger) {
  return async function accessLogMiddleware(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info('request', {
        requestId: ctx.state.requestId,
        method: ctx.method,
        path: ctx.path,
        status: ctx.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    }
  };
}
