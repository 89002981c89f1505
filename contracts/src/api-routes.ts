import type { ContractSchemaId } from './validators.js';

/**
 * Who may call a route, as the OpenAPI document states it:
 * - `api`: an API key (`X-API-Key`, or `Authorization: Bearer byk_...`) or an OAuth access token
 *   (`Authorization: Bearer`) holding the route's `scopes`;
 * - `app`: an app's OAuth access token holding `scopes` (the external API; API keys are refused);
 * - `owner`: the user themself: a full-access API key (every scope) or the session cookie of our
 *   pages, never an app's token;
 * - `none`: anyone.
 */
export type ApiRouteAuth = 'api' | 'app' | 'owner' | 'none';

/** A query or header parameter. */
export interface ApiRouteParam {
  readonly name: string;
  readonly description: string;
  /** Its JSON Schema (a string when absent). */
  readonly schema?: Readonly<Record<string, unknown>>;
  readonly required?: boolean;
}

/** An answer of a route. A bare schema id is `{ schema }` with the status's usual description. */
export interface ApiRouteResponse {
  readonly description?: string;
  /** The JSON body's contract schema; an answer without it has no body. */
  readonly schema?: ContractSchemaId;
  /** Response headers: name -> description. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** One route of the HTTP API: the single source of its OpenAPI operation. */
export interface ApiRoute {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI style: `/api/v1/blocks/{id}` (the router's `:id`). */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly auth: ApiRouteAuth;
  /** The scopes the caller must hold (`api` and `app`). */
  readonly scopes?: readonly string[];
  /** Path parameter descriptions by name; every `{name}` of the path is a required string. */
  readonly pathParams?: Readonly<Record<string, string>>;
  readonly query?: readonly ApiRouteParam[];
  readonly headers?: readonly ApiRouteParam[];
  /** The JSON request body's contract schema; `required: false` when it may be left out. */
  readonly body?: { readonly schema: ContractSchemaId; readonly required?: boolean };
  /** Successful answers by status (2xx, 3xx). */
  readonly responses: Readonly<Record<number, ContractSchemaId | ApiRouteResponse>>;
  /**
   * Error statuses this route answers beyond the usual ones, each `{ "detail" }` (error-body):
   * 401/403 come with authentication, 400/413/422 with a body, 429 with rate limits, and any
   * other error is the `default` answer.
   */
  readonly errors?: Readonly<Record<number, string>>;
}

/** The tags that group the routes, in the document's order. */
export const API_TAGS: Readonly<Record<string, string>> = {
  System: 'Health and this document.',
  Blocks: 'Block definitions and plugins; executing a block.',
  Executions: 'Executions of blocks and agents: status, outputs, cancel.',
  Credentials: "The user's credentials for providers, and provider OAuth2 logins.",
  'API keys': "The user's API keys.",
  Agents: 'Agents: versioned graphs of blocks.',
  Triggers: 'Activating agents on provider webhooks.',
  Grants: "The user's credential grants to apps.",
  'External API': "For third-party apps acting for a user with an OAuth access token (the external API guide's).",
  'OAuth clients': "The user's apps (OAuth clients) and their outbound webhook deliveries.",
};

const wait: ApiRouteParam = {
  name: 'wait',
  description: 'Seconds (0 to 30) to wait for the execution to finish: 200 with it when it did, else 202.',
  schema: { type: 'number', minimum: 0, maximum: 30 },
};
const location = { Location: 'Where the created resource is.' } as const;
const noStore = { 'Cache-Control': '`no-store`: the answer carries a secret shown only this once.' } as const;

/**
 * Every route of /api/v1, /api/external/v1, /external-api/v1 and OAuth client management, plus
 * /healthz and /openapi.json. The OpenAPI document (`buildOpenApiDocument`) is built from this
 * list, and a spec of the HTTP adapter checks it against the routes its router registers.
 */
export const API_ROUTES: readonly ApiRoute[] = [
  // System
  {
    method: 'get', path: '/healthz', operationId: 'getHealth', tag: 'System', auth: 'none',
    summary: 'Liveness: the server answers',
    responses: { 200: 'health.schema.json' },
  },
  {
    method: 'get', path: '/openapi.json', operationId: 'getOpenApiDocument', tag: 'System', auth: 'none',
    summary: 'This OpenAPI 3.1 document',
    responses: { 200: 'openapi-document.schema.json' },
  },

  // Blocks
  {
    method: 'get', path: '/api/v1/blocks', operationId: 'listBlocks', tag: 'Blocks', auth: 'api', scopes: ['READ_BLOCK'],
    summary: 'List the block definitions',
    responses: { 200: 'block-list.schema.json' },
  },
  {
    method: 'get', path: '/api/v1/blocks/{id}', operationId: 'getBlock', tag: 'Blocks', auth: 'api', scopes: ['READ_BLOCK'],
    summary: 'Get one block definition',
    pathParams: { id: 'The block id, e.g. `example.echo`.' },
    responses: { 200: 'block-definition.schema.json' },
    errors: { 404: 'No such block.' },
  },
  {
    method: 'get', path: '/api/v1/plugins', operationId: 'listPlugins', tag: 'Blocks', auth: 'api', scopes: ['READ_BLOCK'],
    summary: 'List the configured plugins, loaded or failed with the reason',
    responses: { 200: 'plugin-list.schema.json' },
  },
  {
    method: 'post', path: '/api/v1/blocks/{id}/execute', operationId: 'executeBlock', tag: 'Blocks', auth: 'api', scopes: ['EXECUTE_BLOCK'],
    summary: 'Execute a block',
    description: "Queues an execution of the block with the inputs (checked against its input schema). With `?wait=`, answers the finished execution if it finished in time. With an app's access token, a credential in `inputs.credentials` needs a live grant of the app covering the block's scopes (else 403 `Grant validation failed: ...`), and the execution is the app's.",
    pathParams: { id: 'The block id.' },
    query: [wait],
    body: { schema: 'execute-block-request.schema.json' },
    responses: {
      200: { schema: 'execution.schema.json', description: 'Finished within `wait`.' },
      202: { schema: 'execute-block-accepted.schema.json', description: 'Queued.', headers: { Location: 'The execution.' } },
    },
    errors: { 404: 'No such block.' },
  },

  // Executions
  {
    method: 'get', path: '/api/v1/executions/{id}', operationId: 'getExecution', tag: 'Executions', auth: 'api', scopes: ['READ_RUN'],
    summary: "Get an execution: status, outputs, cost and, for an agent, its node runs",
    description: "An app's access token gets only the app's own executions (404 for the user's and other apps').",
    pathParams: { id: 'The execution id.' },
    responses: { 200: 'execution.schema.json' },
    errors: { 404: 'No such execution of the caller.' },
  },
  {
    method: 'post', path: '/api/v1/executions/{id}/cancel', operationId: 'cancelExecution', tag: 'Executions', auth: 'api', scopes: ['WRITE_RUN'],
    summary: 'Cancel an execution',
    description: "An app's access token cancels only the app's own executions (404 for the user's and other apps').",
    pathParams: { id: 'The execution id.' },
    responses: { 200: { schema: 'execution.schema.json', description: 'The cancelled execution.' } },
    errors: { 404: 'No such execution of the caller.', 409: 'It has already finished.' },
  },
  {
    method: 'post', path: '/api/v1/agents/{id}/execute', operationId: 'executeAgent', tag: 'Executions', auth: 'api', scopes: ['RUN_AGENT'],
    summary: "Execute one of the caller's agents",
    description: "Runs the latest version, or `version`. With `?wait=`, answers the finished execution if it finished in time. With an app's access token, the external API's grant validation applies (403 `Grant validation failed: ...`), and the execution is the app's.",
    pathParams: { id: 'The agent id.' },
    query: [wait],
    body: { schema: 'execute-agent-request.schema.json' },
    responses: {
      200: { schema: 'execution.schema.json', description: 'Finished within `wait`.' },
      202: { schema: 'execute-block-accepted.schema.json', description: 'Queued.', headers: { Location: 'The execution.' } },
    },
    errors: { 404: 'No such agent (or version) of the caller, or a credential a node may not use.' },
  },

  // Credentials and provider logins
  {
    method: 'get', path: '/api/v1/credentials', operationId: 'listCredentials', tag: 'Credentials', auth: 'api', scopes: ['READ_INTEGRATIONS'],
    summary: "List the caller's credentials and the system ones (metadata, never a secret)",
    description: "For the user's API key. An app's access token is refused (403): apps reach the user's integrations through grants.",
    responses: { 200: 'credential-list.schema.json' },
  },
  {
    method: 'post', path: '/api/v1/credentials', operationId: 'createCredential', tag: 'Credentials', auth: 'api', scopes: ['MANAGE_INTEGRATIONS'],
    summary: 'Store a credential (sealed at once)',
    description: "For the user's API key. An app's access token is refused (403): apps reach the user's integrations through grants.",
    body: { schema: 'credential-create-request.schema.json' },
    responses: { 201: { schema: 'credential-body.schema.json', headers: location } },
  },
  {
    method: 'delete', path: '/api/v1/credentials/{id}', operationId: 'deleteCredential', tag: 'Credentials', auth: 'api', scopes: ['DELETE_INTEGRATIONS'],
    summary: 'Delete a credential, revoking it at its provider first when it can',
    description: "For the user's API key. An app's access token is refused (403): apps reach the user's integrations through grants.",
    pathParams: { id: 'The credential id.' },
    responses: { 200: 'credential-deleted.schema.json' },
    errors: { 404: 'No such credential of the caller.' },
  },
  {
    method: 'get', path: '/api/v1/integrations/{provider}/login', operationId: 'startIntegrationLogin', tag: 'Credentials', auth: 'api', scopes: ['MANAGE_INTEGRATIONS'],
    summary: "Start a provider's OAuth2 login: its authorization URL with a single-use state",
    description: "For the user's API key. An app's access token is refused (403): apps reach the user's integrations through grants.",
    pathParams: { provider: 'The provider, e.g. `github`.' },
    query: [{ name: 'scopes', description: 'Integration scopes to ask for, comma-separated (default: all).' }],
    responses: { 200: { schema: 'integration-login.schema.json', headers: { 'Cache-Control': '`no-store`.' } } },
    errors: { 404: 'No such provider, or provider OAuth is not configured.' },
  },
  {
    method: 'get', path: '/api/v1/integrations/{provider}/callback', operationId: 'completeIntegrationLogin', tag: 'Credentials', auth: 'none',
    summary: "The provider's OAuth2 redirect back: stores the credential",
    description: 'No credentials: the single-use state names the user. A browser (Accept: text/html) gets a small page instead of JSON; a login started on a connect page goes back there.',
    pathParams: { provider: 'The provider.' },
    query: [
      { name: 'code', description: 'The authorization code.' },
      { name: 'state', description: 'The state of the login.' },
      { name: 'error', description: "The provider's error, e.g. `access_denied`." },
      { name: 'error_description', description: "The provider's error description." },
    ],
    responses: {
      201: { schema: 'credential-body.schema.json', description: 'The stored oauth2 credential.' },
      302: { description: 'Back to the connect page the login started on.', headers: { Location: 'The connect page.' } },
    },
    errors: { 403: 'The user denied access.', 404: 'No such provider.', 422: 'Unknown, used or expired state, or no code.', 502: "The provider's token endpoint failed." },
  },

  // API keys
  {
    method: 'get', path: '/api/v1/api-keys', operationId: 'listApiKeys', tag: 'API keys', auth: 'api',
    summary: "List the caller's API keys (never a secret)",
    responses: { 200: 'api-key-list.schema.json' },
  },
  {
    method: 'post', path: '/api/v1/api-keys', operationId: 'createApiKey', tag: 'API keys', auth: 'api',
    summary: 'Create an API key',
    description: 'The new key may hold only scopes the calling key holds (403 naming the others). Its secret is in this answer only. Not for an app\'s access token.',
    body: { schema: 'api-key-create-request.schema.json' },
    responses: { 201: { schema: 'api-key-created.schema.json', headers: { ...location, ...noStore } } },
  },
  {
    method: 'delete', path: '/api/v1/api-keys/{id}', operationId: 'revokeApiKey', tag: 'API keys', auth: 'api',
    summary: 'Revoke an API key (again: a no-op)',
    pathParams: { id: 'The key id.' },
    responses: { 204: { description: 'Revoked.' } },
    errors: { 404: 'No such key of the caller.' },
  },

  // Agents
  {
    method: 'post', path: '/api/v1/agents', operationId: 'createAgent', tag: 'Agents', auth: 'api', scopes: ['WRITE_GRAPH'],
    summary: 'Create an agent (version 1)',
    description: 'The whole graph is checked; 422 lists every problem with its node ids.',
    body: { schema: 'agent-create-request.schema.json' },
    responses: { 201: { schema: 'agent-body.schema.json', headers: location } },
  },
  {
    method: 'get', path: '/api/v1/agents', operationId: 'listAgents', tag: 'Agents', auth: 'api', scopes: ['READ_GRAPH'],
    summary: "List the caller's agents, newest first",
    query: [
      { name: 'limit', description: 'Page size.', schema: { type: 'integer', minimum: 1 } },
      { name: 'cursor', description: 'The `next_cursor` of the previous page.' },
    ],
    responses: { 200: 'agent-list.schema.json' },
  },
  {
    method: 'get', path: '/api/v1/agents/{id}', operationId: 'getAgent', tag: 'Agents', auth: 'api', scopes: ['READ_GRAPH'],
    summary: 'Get an agent: its latest version or the one asked for',
    pathParams: { id: 'The agent id.' },
    query: [{ name: 'version', description: 'A version number (default: the latest).', schema: { type: 'integer', minimum: 1 } }],
    responses: { 200: 'agent-body.schema.json' },
    errors: { 404: 'No such agent (or version) of the caller.' },
  },
  {
    method: 'put', path: '/api/v1/agents/{id}', operationId: 'updateAgent', tag: 'Agents', auth: 'api', scopes: ['WRITE_GRAPH'],
    summary: 'Save a new version of an agent',
    pathParams: { id: 'The agent id.' },
    body: { schema: 'agent-update-request.schema.json' },
    responses: { 200: { schema: 'agent-body.schema.json', description: 'The new version.' } },
    errors: { 404: 'No such agent of the caller.', 409: 'A stale `version`.' },
  },
  {
    method: 'delete', path: '/api/v1/agents/{id}', operationId: 'deleteAgent', tag: 'Agents', auth: 'api', scopes: ['WRITE_GRAPH'],
    summary: 'Delete an agent (deactivating it first)',
    pathParams: { id: 'The agent id.' },
    responses: { 204: { description: 'Deleted.' } },
    errors: { 404: 'No such agent of the caller.' },
  },

  // Triggers
  {
    method: 'post', path: '/api/v1/agents/{id}/activate', operationId: 'activateAgent', tag: 'Triggers', auth: 'api', scopes: ['WRITE_GRAPH'],
    summary: "Activate an agent's trigger: register its webhook",
    description: "For the user's API key: an app's access token is refused (403), as this uses the user's credential at the provider.",
    pathParams: { id: 'The agent id.' },
    body: { schema: 'agent-activate-request.schema.json', required: false },
    responses: { 201: { schema: 'webhook-body.schema.json', description: 'The registration; in manual mode with the secret, shown this once.', headers: noStore } },
    errors: { 404: 'No such agent of the caller.', 409: 'Already active.' },
  },
  {
    method: 'post', path: '/api/v1/agents/{id}/deactivate', operationId: 'deactivateAgent', tag: 'Triggers', auth: 'api', scopes: ['WRITE_GRAPH'],
    summary: "Deactivate an agent's trigger",
    description: "For the user's API key: an app's access token is refused (403), as this uses the user's credential at the provider.",
    pathParams: { id: 'The agent id.' },
    responses: { 200: 'webhook-deactivated.schema.json' },
    errors: { 404: 'No such agent of the caller.', 409: 'Not active.' },
  },
  {
    method: 'get', path: '/api/v1/agents/{id}/webhook', operationId: 'getAgentWebhook', tag: 'Triggers', auth: 'api', scopes: ['READ_GRAPH'],
    summary: "Get an active agent's webhook registration (never the secret)",
    pathParams: { id: 'The agent id.' },
    responses: { 200: 'webhook-body.schema.json' },
    errors: { 404: 'No such agent of the caller, or it is not active.' },
  },

  // Grants (the user's)
  {
    method: 'get', path: '/api/v1/grants', operationId: 'listGrants', tag: 'Grants', auth: 'api', scopes: ['READ_INTEGRATIONS'],
    summary: "List the user's credential grants to apps, live and revoked",
    description: "For the user's own API key; an app's access token is refused (403).",
    responses: { 200: 'grant-list.schema.json' },
  },
  {
    method: 'delete', path: '/api/v1/grants/{id}', operationId: 'revokeGrant', tag: 'Grants', auth: 'api', scopes: ['MANAGE_INTEGRATIONS'],
    summary: 'Revoke a grant (sends grant.revoked; again: a no-op)',
    pathParams: { id: 'The grant id.' },
    responses: { 204: { description: 'Revoked.' } },
    errors: { 404: 'No such grant of the user.' },
  },

  // External API (apps)
  {
    method: 'get', path: '/api/external/v1/executions/capabilities', operationId: 'getExternalCapabilities', tag: 'External API', auth: 'app', scopes: ['agents:execute'],
    summary: 'What the app may do for this user: the token\'s scopes and the app\'s live grants',
    responses: { 200: 'external-capabilities.schema.json' },
  },
  {
    method: 'post', path: '/api/external/v1/executions/agents/{agent_id}/execute', operationId: 'executeExternalAgent', tag: 'External API', auth: 'app', scopes: ['agents:execute'],
    summary: "Execute one of the user's agents with the app's grants",
    description: 'Every node needing a credential must name one the app holds a live grant for (403 `Grant validation failed: ...` otherwise). `webhook_url` must be on one of the app\'s webhook domains.',
    pathParams: { agent_id: 'The agent id.' },
    headers: [{ name: 'Idempotency-Key', description: 'A repeat with the same key and request answers the first execution (1 to 255 visible ASCII characters).', schema: { type: 'string', minLength: 1, maxLength: 255 } }],
    body: { schema: 'external-execute-request.schema.json' },
    responses: {
      202: {
        schema: 'external-execute-accepted.schema.json',
        headers: { Location: 'The execution.', 'Idempotent-Replayed': '`true` when this answers an earlier request with the same Idempotency-Key.' },
      },
    },
    errors: { 404: 'No such agent of the user.', 409: 'The first request with this Idempotency-Key is still being accepted: retry.' },
  },
  {
    method: 'get', path: '/api/external/v1/executions/{execution_id}', operationId: 'getExternalExecution', tag: 'External API', auth: 'app', scopes: ['agents:execute'],
    summary: 'Get an execution the app started',
    pathParams: { execution_id: 'The execution id.' },
    responses: { 200: 'external-execution-status.schema.json' },
    errors: { 404: 'No such execution of this app and user.' },
  },
  {
    method: 'post', path: '/api/external/v1/executions/{execution_id}/cancel', operationId: 'cancelExternalExecution', tag: 'External API', auth: 'app', scopes: ['agents:execute'],
    summary: 'Cancel an execution the app started',
    pathParams: { execution_id: 'The execution id.' },
    responses: { 200: { schema: 'external-execution-status.schema.json', description: 'The cancelled execution.' } },
    errors: { 404: 'No such execution of this app and user.', 409: 'It has already finished.' },
  },
  {
    method: 'get', path: '/api/external/v1/grants/', operationId: 'listExternalGrants', tag: 'External API', auth: 'app', scopes: ['integrations:list'],
    summary: "List the app's grants from this user",
    query: [{ name: 'include_revoked', description: '`true` to list revoked grants too.', schema: { enum: ['true', 'false'] } }],
    responses: { 200: 'grant-list.schema.json' },
  },
  {
    method: 'get', path: '/api/external/v1/grants/{grant_id}', operationId: 'getExternalGrant', tag: 'External API', auth: 'app', scopes: ['integrations:list'],
    summary: "Get one of the app's grants (also a revoked one)",
    pathParams: { grant_id: 'The grant id.' },
    responses: { 200: 'grant-body.schema.json' },
    errors: { 404: 'No such grant of this app and user.' },
  },
  {
    method: 'delete', path: '/api/external/v1/grants/{grant_id}/credential', operationId: 'deleteExternalGrantCredential', tag: 'External API', auth: 'app', scopes: ['integrations:delete'],
    summary: 'Delete the credential behind a grant, revoking every grant on it',
    pathParams: { grant_id: 'The grant id.' },
    responses: { 200: 'grant-credential-deleted.schema.json' },
    errors: { 404: 'No such grant of this app and user.' },
  },
  {
    method: 'get', path: '/external-api/v1/blocks', operationId: 'listExternalBlocks', tag: 'External API', auth: 'api', scopes: ['READ_BLOCK'],
    summary: 'List the block definitions (the API guide\'s path)',
    responses: { 200: 'block-list.schema.json' },
  },

  // OAuth clients (the user's apps)
  {
    method: 'post', path: '/oauth/clients/', operationId: 'createOAuthClient', tag: 'OAuth clients', auth: 'owner',
    summary: 'Register an app (OAuth client)',
    description: 'Its client secret and webhook secret are in this answer only. `scopes`, when given, are all the app may ever request (an unknown scope is 422).',
    body: { schema: 'oauth-client-create-request.schema.json' },
    responses: { 201: { schema: 'oauth-client-created.schema.json', headers: { ...location, ...noStore } } },
  },
  {
    method: 'get', path: '/oauth/clients/', operationId: 'listOAuthClients', tag: 'OAuth clients', auth: 'owner',
    summary: "List the user's apps, oldest first (never a secret)",
    responses: { 200: 'oauth-client-list.schema.json' },
  },
  {
    method: 'get', path: '/oauth/clients/{client_id}', operationId: 'getOAuthClient', tag: 'OAuth clients', auth: 'owner',
    summary: 'Get one of the user\'s apps',
    pathParams: { client_id: 'The client id.' },
    responses: { 200: 'oauth-client-body.schema.json' },
    errors: { 404: 'No such client of the user.' },
  },
  {
    method: 'patch', path: '/oauth/clients/{client_id}', operationId: 'updateOAuthClient', tag: 'OAuth clients', auth: 'owner',
    summary: 'Change an app',
    pathParams: { client_id: 'The client id.' },
    body: { schema: 'oauth-client-update-request.schema.json' },
    responses: { 200: 'oauth-client-body.schema.json' },
    errors: { 404: 'No such client of the user.' },
  },
  {
    method: 'delete', path: '/oauth/clients/{client_id}', operationId: 'deleteOAuthClient', tag: 'OAuth clients', auth: 'owner',
    summary: 'Delete an app, revoking its tokens and grants',
    pathParams: { client_id: 'The client id.' },
    responses: { 204: { description: 'Deleted.' } },
    errors: { 404: 'No such client of the user.' },
  },
  {
    method: 'post', path: '/oauth/clients/{client_id}/rotate-secret', operationId: 'rotateOAuthClientSecret', tag: 'OAuth clients', auth: 'owner',
    summary: "Renew an app's client secret and/or webhook secret (shown this once)",
    pathParams: { client_id: 'The client id.' },
    body: { schema: 'oauth-client-rotate-request.schema.json', required: false },
    responses: { 200: { schema: 'oauth-client-secrets.schema.json', headers: noStore } },
    errors: { 404: 'No such client of the user.' },
  },
  {
    method: 'get', path: '/oauth/clients/{client_id}/webhook-deliveries', operationId: 'listOAuthClientWebhookDeliveries', tag: 'OAuth clients', auth: 'owner',
    summary: "List an app's outbound webhook deliveries, newest first, with status and attempts",
    pathParams: { client_id: 'The client id.' },
    query: [
      { name: 'status', description: 'Only deliveries in this status.', schema: { enum: ['pending', 'delivered', 'failed', 'disabled'] } },
      { name: 'limit', description: 'Page size, 1 to 100 (default 50).', schema: { type: 'integer', minimum: 1, maximum: 100 } },
      { name: 'before', description: 'The `next_before` of the previous page.' },
    ],
    responses: { 200: 'client-webhook-delivery-list.schema.json' },
    errors: { 404: 'No such client of the user.' },
  },
];
