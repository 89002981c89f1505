import { allSchemas } from './generated/schemas.js';
import type { OpenApiDocument } from './generated/types.js';
import { API_ROUTES, API_TAGS, type ApiRoute, type ApiRouteParam, type ApiRouteResponse } from './api-routes.js';
import type { ContractSchemaId } from './validators.js';

/** What the document needs besides the route catalogue. */
export interface OpenApiOptions {
  /**
   * Every scope an OAuth access token can hold, with what it lets an app do (the OAuth2 scheme's
   * scopes, core's OAUTH_SCOPE_DESCRIPTIONS). Each route's scopes must be among them.
   */
  readonly scopes: Readonly<Record<string, string>>;
  /** The routes; default API_ROUTES. */
  readonly routes?: readonly ApiRoute[];
}

/** The session cookie of our pages (client management takes it as well as API keys): http-koa's SESSION_COOKIE. */
const SESSION_COOKIE_NAME = 'blockyard_session';

/** Paths whose answers carry X-RateLimit-* and may be a 429 (the rate limiter's endpoint classes). */
const RATE_LIMITED = /^\/(?:api\/v1|api\/external\/v1|external-api\/v1|oauth)\//;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK.',
  201: 'Created.',
  202: 'Accepted.',
  204: 'No content.',
  302: 'Found: a redirect.',
  400: 'Malformed JSON.',
  401: 'Missing, invalid, expired or revoked credentials.',
  403: 'The credentials lack the scope named in `detail`, or may not do this.',
  404: 'Not found.',
  409: 'Conflict.',
  413: 'The body is over the size limit (1 MiB by default).',
  422: 'Invalid input: `detail` names each failing place.',
  429: 'Over the rate limit: retry after `Retry-After` seconds.',
  502: 'An upstream service failed.',
};

const schemaRef = (id: ContractSchemaId | string): { $ref: string } => ({ $ref: `#/components/schemas/${titleOf(id)}` });
const json = (id: ContractSchemaId) => ({ 'application/json': { schema: schemaRef(id) } });
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });
const responseRef = (name: string) => ({ $ref: `#/components/responses/${name}` });

/**
 * The OpenAPI 3.1 document of the HTTP API: its operations from the route catalogue
 * (API_ROUTES), its schemas the contract schemas (their `$ref`s between files rewritten to
 * `#/components/schemas/<title>`; the contracts are JSON Schema that reads the same under 2020-12,
 * the dialect of OpenAPI 3.1), its security schemes the API key, bearer token, OAuth 2.0
 * authorization code (PKCE) and session cookie. Deterministic: the same input gives the same document.
 */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const routes = options.routes ?? API_ROUTES;
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    if (operationIds.has(route.operationId)) throw new Error(`operationId ${route.operationId} is used twice`);
    operationIds.add(route.operationId);
    for (const scope of route.scopes ?? []) if (!(scope in options.scopes)) throw new Error(`${route.operationId}: unknown scope ${scope}`);
    if (!(route.tag in API_TAGS)) throw new Error(`${route.operationId}: unknown tag ${route.tag}`);
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`${route.method.toUpperCase()} ${route.path} is listed twice`);
    item[route.method] = operationOf(route);
  }
  const usedTags = new Set(routes.map((r) => r.tag));
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Blockyard API',
      version: '1.0.0',
      description: [
        'The HTTP API of Blockyard, generated from the JSON Schemas and the route catalogue in contracts/.',
        '',
        '- `/api/v1`: the platform API, for an API key (`X-API-Key`, or `Authorization: Bearer byk_...`) or an OAuth access token (`Authorization: Bearer`) holding the route\'s scope.',
        "- `/api/external/v1`: the external API for third-party apps, with an app's OAuth access token (authorization code + PKCE S256 at `/oauth/authorize` and `/oauth/token`).",
        "- `/oauth/clients/`: the user's apps, for an API key or the signed-in session.",
        '',
        'Errors are `{ "detail": "..." }` with the status. Every answer carries `X-Request-Id` (the request\'s own, if it sent one; the server log has it too); when rate limits are on, those under /api/ and /oauth/ carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix seconds).',
      ].join('\n'),
    },
    tags: Object.entries(API_TAGS).filter(([name]) => usedTags.has(name)).map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: securitySchemes(options.scopes),
      responses: commonResponses(),
      headers: {
        XRateLimitLimit: { description: 'Requests allowed in the window of the tightest rate limit rule.', schema: { type: 'integer' } },
        XRateLimitRemaining: { description: 'Requests left in that window.', schema: { type: 'integer' } },
        XRateLimitReset: { description: 'When that window ends, in Unix seconds.', schema: { type: 'integer' } },
        RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
      },
    },
  };
}

function operationOf(route: ApiRoute): Record<string, unknown> {
  const limited = RATE_LIMITED.test(route.path);
  const rateHeaders = limited ? { 'X-RateLimit-Limit': headerRef('XRateLimitLimit'), 'X-RateLimit-Remaining': headerRef('XRateLimitRemaining'), 'X-RateLimit-Reset': headerRef('XRateLimitReset') } : {};
  const parameters = [...pathParameters(route), ...(route.query ?? []).map((p) => parameter(p, 'query')), ...(route.headers ?? []).map((p) => parameter(p, 'header'))];

  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    const { description, schema, headers }: ApiRouteResponse = typeof answer === 'string' ? { schema: answer } : answer;
    const own = Object.fromEntries(Object.entries(headers ?? {}).map(([name, text]) => [name, { description: text, schema: { type: 'string' } }]));
    responses[status] = {
      description: description ?? STATUS_TEXT[Number(status)] ?? `HTTP ${status}.`,
      ...(Object.keys(own).length || limited ? { headers: { ...rateHeaders, ...own } } : {}),
      ...(schema ? { content: json(schema) } : {}),
    };
  }
  // The usual errors by reference; a route's own (its `errors`) with its own description.
  const errors: Record<number, string | { $ref: string }> = {};
  if (route.auth !== 'none') Object.assign(errors, { 401: responseRef('Unauthorized'), 403: responseRef(route.auth === 'owner' ? 'ForbiddenForApps' : 'Forbidden') });
  if (route.body) Object.assign(errors, { 400: responseRef('BadRequest'), 413: responseRef('PayloadTooLarge'), 422: responseRef('UnprocessableEntity') });
  if (route.query?.length || route.headers?.length) errors[422] = responseRef('UnprocessableEntity');
  if (limited) errors[429] = responseRef('TooManyRequests');
  Object.assign(errors, route.errors);
  for (const [status, answer] of Object.entries(errors).sort(([a], [b]) => Number(a) - Number(b))) {
    responses[status] = typeof answer === 'string' ? { description: answer, content: json('error-body.schema.json') } : answer;
  }
  responses.default = responseRef('Error');

  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    security: securityOf(route),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: route.body.required ?? true, content: json(route.body.schema) } } : {}),
    responses,
  };
}

/** The error answers every route may give, as components.responses. */
function commonResponses(): Record<string, unknown> {
  const error = (description: string, headers?: Record<string, unknown>) => ({ description, ...(headers ? { headers } : {}), content: json('error-body.schema.json') });
  return {
    BadRequest: error(STATUS_TEXT[400]!),
    Unauthorized: error(STATUS_TEXT[401]!, { 'WWW-Authenticate': { description: 'The schemes to authenticate with.', schema: { type: 'string' } } }),
    Forbidden: error(STATUS_TEXT[403]!),
    ForbiddenForApps: error("An app's access token, an API key lacking any scope (`detail` names them), or a session change from another site: this is for the user's own full-access API key or session."),
    PayloadTooLarge: error(STATUS_TEXT[413]!),
    UnprocessableEntity: error(STATUS_TEXT[422]!),
    TooManyRequests: error(STATUS_TEXT[429]!, { 'Retry-After': headerRef('RetryAfter'), 'X-RateLimit-Limit': headerRef('XRateLimitLimit'), 'X-RateLimit-Remaining': headerRef('XRateLimitRemaining'), 'X-RateLimit-Reset': headerRef('XRateLimitReset') }),
    Error: error('Any other error (500: unexpected, the request id in `detail`).'),
  };
}

function pathParameters(route: ApiRoute): unknown[] {
  const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  for (const name of Object.keys(route.pathParams ?? {})) if (!names.includes(name)) throw new Error(`${route.operationId}: path parameter ${name} is not in ${route.path}`);
  return names.map((name) => ({ name, in: 'path', required: true, description: route.pathParams?.[name] ?? name, schema: { type: 'string' } }));
}

function parameter(p: ApiRouteParam, where: 'query' | 'header'): unknown {
  return { name: p.name, in: where, required: p.required ?? false, description: p.description, schema: p.schema ?? { type: 'string' } };
}

/** Security requirements: any one of them will do. */
function securityOf(route: ApiRoute): Array<Record<string, string[]>> {
  const scopes = [...(route.scopes ?? [])];
  switch (route.auth) {
    case 'none':
      return [];
    case 'app':
      return [{ OAuth2: scopes }];
    case 'owner':
      return [{ ApiKey: [] }, { BearerAuth: [] }, { Session: [] }];
    case 'api':
      return scopes.length ? [{ ApiKey: scopes }, { BearerAuth: scopes }, { OAuth2: scopes }] : [{ ApiKey: [] }, { BearerAuth: [] }];
  }
}

function securitySchemes(scopes: Readonly<Record<string, string>>): Record<string, unknown> {
  return {
    ApiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (`byk_...`); its scopes are those it was created with.' },
    BearerAuth: { type: 'http', scheme: 'bearer', description: 'An API key (`byk_...`) or an OAuth access token as `Authorization: Bearer`; an access token holds only the scopes its user granted.' },
    OAuth2: {
      type: 'oauth2',
      description: 'Authorization code with PKCE (S256, required for every client); refresh tokens rotate on every use.',
      flows: { authorizationCode: { authorizationUrl: '/oauth/authorize', tokenUrl: '/oauth/token', refreshUrl: '/oauth/token', scopes: { ...scopes } } },
    },
    Session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE_NAME, description: 'The session of the signed-in user (from /login); a change must come from this site.' },
  };
}

let titles: Map<string, string> | undefined;
function titleOf(id: string): string {
  titles ??= new Map(allSchemas.map((s) => [s.$id, s.title]));
  const title = titles.get(id);
  if (!title) throw new Error(`unknown contract schema ${id}`);
  return title;
}

/** Every contract schema by its title, without `$id`, its cross-file `$ref`s pointing into components. */
function componentSchemas(): Record<string, unknown> {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$id') continue;
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) {
        const [file, fragment] = value.split('#', 2);
        out.$ref = schemaRef(file!).$ref + (fragment ?? '');
      } else out[key] = rewrite(value);
    }
    return out;
  };
  return Object.fromEntries(allSchemas.map((s) => [s.title, rewrite(s)]));
}
