import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { paths } from './generated/openapi.js';

/** How the client authenticates: an API key, an OAuth access token, or nothing (public routes). */
export type BlockyardCredentials =
  | { /** An API key (`byk_...`), sent as `X-API-Key`. */ apiKey: string; accessToken?: never }
  | { /** An OAuth access token (or an API key), sent as `Authorization: Bearer`. */ accessToken: string; apiKey?: never }
  | { apiKey?: never; accessToken?: never };

export type BlockyardClientOptions = BlockyardCredentials & {
  /** The server, e.g. `https://blockyard.example.com` (paths are absolute: `/api/v1/...`). */
  baseUrl: string;
  /** Headers sent with every request besides the credentials. */
  headers?: Record<string, string>;
  /** The fetch to use; default globalThis.fetch. */
  fetch?: ClientOptions['fetch'];
};

/** A typed client of the whole API: `client.GET('/api/v1/executions/{id}', { params: { path: { id } } })`. */
export type BlockyardClient = Client<paths>;

/**
 * A client of the Blockyard API, typed from its OpenAPI document (openapi-fetch): each call
 * takes the path as the document writes it, with typed path, query and header parameters and
 * body, and resolves to `{ data, error, response }`: `data` the 2xx body, `error` the `{ detail }`
 * of any other status. It never throws for an HTTP status, only when the request cannot be made.
 */
export function createBlockyardClient(options: BlockyardClientOptions): BlockyardClient {
  if (options.apiKey !== undefined && options.accessToken !== undefined) throw new TypeError('createBlockyardClient: pass apiKey or accessToken, not both');
  const headers: Record<string, string> = { ...options.headers };
  if (options.apiKey !== undefined) headers['X-API-Key'] = options.apiKey;
  if (options.accessToken !== undefined) headers.Authorization = `Bearer ${options.accessToken}`;
  return createClient<paths>({ baseUrl: options.baseUrl.replace(/\/+$/, ''), headers, ...(options.fetch ? { fetch: options.fetch } : {}) });
}
