import type Router from '@koa/router';
import { buildOpenApiDocument, type OpenApiDocument } from '@blockyard/contracts';
import { OAUTH_SCOPE_DESCRIPTIONS } from '@blockyard/core';
import { send } from '../contract-io.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * `GET /openapi.json`, no credentials: the OpenAPI 3.1 document of this API, built from the
 * route catalogue and the schemas in contracts/ (the very document `npm run generate` writes
 * to contracts/dist/openapi.json), once, on the first request. Any origin may read it (CORS).
 */
export function openApiRoutes(router: Router, deps: Pick<HttpDeps, 'validators'>): void {
  let document: OpenApiDocument | undefined;
  router.get('/openapi.json', (ctx) => {
    document ??= buildOpenApiDocument({ scopes: OAUTH_SCOPE_DESCRIPTIONS });
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('Access-Control-Allow-Origin', '*');
    send(ctx, deps.validators, 200, 'openapi-document.schema.json', document);
  });
}
