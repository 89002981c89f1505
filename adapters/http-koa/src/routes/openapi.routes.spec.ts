import { expect } from 'chai';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type Koa from 'koa';
import type Router from '@koa/router';
import { Validator } from '@seriousme/openapi-schema-validator';
import { allSchemas, API_ROUTES, ContractValidators, type OpenApiDocument } from '@blockyard/contracts';
import { OAUTH_SCOPES, PluginCatalog, silentLogger, type ApiKeyService, type BlockCatalog, type ExecutionService } from '@blockyard/core';
import { createHttpApp } from '../http-app.js';
import type { HttpAuthorizationServer, HttpDeps } from '../http-deps.js';
import { SESSION_COOKIE } from '../middleware/session-auth.js';

/**
 * Routes the router registers that are not in the API document, and why. The authorization
 * server's protocol endpoints (/oauth/authorize, /oauth/token, /oauth/userinfo, /oauth/revoke,
 * /.well-known/*) are oidc-provider's, mounted as middleware, not on a router; the document
 * names authorize and token in its OAuth2 security scheme.
 */
const NOT_IN_DOCUMENT: Readonly<Record<string, string>> = {
  'GET /login': 'page: the login form',
  'POST /login': 'page: the login form',
  'POST /logout': 'page: sign out',
  'GET /account': 'page: who is signed in',
  'GET /oauth/interaction/:uid': 'page: OAuth consent',
  'POST /oauth/interaction/:uid/confirm': 'page: OAuth consent',
  'GET /connect/:provider': 'page: the connect popup',
  'POST /connect/:provider': 'page: the connect popup',
  'POST /webhooks/:provider/:webhookId': "inbound provider webhooks, for providers, signed with the provider's secret",
};

/** Something that stands for a dependency when only the routes it enables are looked at (never called). */
const present = {} as never;

/** The app with every optional part present, so that every route is registered. */
function fullApp(): Koa {
  const authorizationServer: HttpAuthorizationServer = {
    middleware: () => async (_ctx, next) => next(),
    pendingAuthorization: async () => present,
    finishAuthorization: async () => '/',
    clientNameOfInteraction: async () => null,
  };
  const deps: HttpDeps = {
    catalog: present as BlockCatalog,
    plugins: new PluginCatalog(),
    executions: present as ExecutionService,
    apiKeys: present as ApiKeyService,
    credentials: present,
    oauth: present,
    validators: new ContractValidators(),
    logger: silentLogger,
    sessions: present,
    agents: present,
    triggers: present,
    oauthClients: present,
    authorizationServer,
    bearer: present,
    clientWebhooks: present,
    rateLimits: { limiter: present, policy: present },
    grants: present,
    externalExecutions: present,
  };
  return createHttpApp(deps);
}

/** `METHOD /path` of every route on the app's routers (HEAD, which GET adds, left out), trailing slashes dropped. */
function registeredRoutes(app: Koa): Set<string> {
  const routers = new Set<Router>();
  for (const middleware of app.middleware) {
    const router = (middleware as { router?: Router }).router;
    if (router) routers.add(router);
  }
  const routes = new Set<string>();
  for (const router of routers) {
    for (const layer of router.stack) {
      for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${normalize(String(layer.path))}`);
    }
  }
  return routes;
}

/** The catalogue's routes in the router's terms: `/a/{id}/` -> `/a/:id`. */
function cataloguedRoutes(): Set<string> {
  return new Set(API_ROUTES.map((r) => `${r.method.toUpperCase()} ${normalize(r.path.replace(/\{([^}]+)\}/g, ':$1'))}`));
}

function normalize(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

async function listen(app: Koa) {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Every `$ref` in a document. */
function refsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsOf(item, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push(value);
      else refsOf(value, out);
    }
  }
  return out;
}

describe('the API document (GET /openapi.json) and the route catalogue', () => {
  let document: OpenApiDocument;
  let served: Response;

  before(async () => {
    const { base, close } = await listen(fullApp());
    try {
      served = await fetch(`${base}/openapi.json`);
      document = (await served.json()) as OpenApiDocument;
    } finally {
      await close();
    }
  });

  describe('route catalogue', () => {
    it('lists every route the router registers (but the pages and inbound webhooks named here), and no other', () => {
      const registered = registeredRoutes(fullApp());
      const catalogued = cataloguedRoutes();
      const uncatalogued = [...registered].filter((r) => !catalogued.has(r) && !(r in NOT_IN_DOCUMENT));
      const unregistered = [...catalogued].filter((r) => !registered.has(r));
      expect(uncatalogued, 'routes missing from contracts/src/api-routes.ts').to.deep.equal([]);
      expect(unregistered, 'catalogued routes the router does not have').to.deep.equal([]);
      for (const exception of Object.keys(NOT_IN_DOCUMENT)) expect(registered.has(exception), `${exception} is still registered`).to.equal(true);
      expect(catalogued.size).to.equal(API_ROUTES.length); // no route listed twice (trailing slashes aside)
    });

    it('names only scopes an API key or access token can hold', () => {
      for (const route of API_ROUTES) for (const scope of route.scopes ?? []) expect(OAUTH_SCOPES, route.operationId).to.include(scope);
      for (const route of API_ROUTES.filter((r) => r.auth === 'app')) expect(route.scopes, route.operationId).to.have.length.greaterThan(0);
    });
  });

  describe('GET /openapi.json', () => {
    it('answers without credentials, as JSON any origin may read', () => {
      expect(served.status).to.equal(200);
      expect(served.headers.get('content-type')).to.match(/^application\/json/);
      expect(served.headers.get('access-control-allow-origin')).to.equal('*');
    });

    it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator, $refs resolved)', async () => {
      const validator = new Validator();
      const result = await validator.validate(structuredClone(document));
      expect(result, JSON.stringify(result.errors)).to.deep.include({ valid: true });
      expect(validator.version).to.equal('3.1');
      expect(document.openapi).to.equal('3.1.0');
    });

    it('covers /api/v1 and /api/external/v1: an operation per catalogued route, with the security its auth says', () => {
      const paths = document.paths as Record<string, Record<string, { operationId: string; security: Array<Record<string, string[]>> }>>;
      for (const route of API_ROUTES) {
        const operation = paths[route.path]?.[route.method];
        expect(operation?.operationId, `${route.method} ${route.path}`).to.equal(route.operationId);
        const schemes = operation!.security.flatMap((requirement) => Object.keys(requirement));
        if (route.auth === 'none') expect(schemes, route.operationId).to.deep.equal([]);
        if (route.auth === 'app') expect(operation!.security, route.operationId).to.deep.equal([{ OAuth2: route.scopes }]);
        if (route.auth === 'api') expect(schemes, route.operationId).to.include.members(['ApiKey', 'BearerAuth']);
        if (route.auth === 'owner') expect(schemes, route.operationId).to.deep.equal(['ApiKey', 'BearerAuth', 'Session']);
      }
      expect(Object.keys(paths).filter((p) => p.startsWith('/api/v1/'))).to.have.length.greaterThan(15);
      expect(Object.keys(paths).filter((p) => p.startsWith('/api/external/v1/'))).to.have.length(7);
    });

    it('defines the API key, bearer, OAuth2 authorization code (every scope) and session schemes it uses', () => {
      const schemes = document.components.securitySchemes as Record<string, Record<string, any>>;
      expect(schemes.ApiKey).to.include({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
      expect(schemes.BearerAuth).to.include({ type: 'http', scheme: 'bearer' });
      expect(schemes.Session).to.include({ type: 'apiKey', in: 'cookie', name: SESSION_COOKIE });
      const flow = schemes.OAuth2!.flows.authorizationCode;
      expect(flow).to.include({ authorizationUrl: '/oauth/authorize', tokenUrl: '/oauth/token' });
      expect(Object.keys(flow.scopes)).to.have.members([...OAUTH_SCOPES]);
      const used = new Set(Object.values(document.paths).flatMap((item) => Object.values(item).flatMap((op) => (op as { security: object[] }).security.flatMap((s) => Object.keys(s)))));
      expect([...used].sort()).to.deep.equal(Object.keys(schemes).sort());
    });

    it('points every $ref at a component that exists, and every component schema is a contract schema', () => {
      for (const ref of refsOf(document)) {
        const [, kind, name] = /^#\/components\/(\w+)\/([^/]+)/.exec(ref) ?? [];
        expect((document.components as Record<string, Record<string, unknown>>)[kind!]?.[name!], ref).to.exist;
      }
      expect(Object.keys(document.components.schemas!).sort()).to.deep.equal(allSchemas.map((s) => s.title).sort());
    });
  });
});

