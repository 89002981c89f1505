export { createBlockyardClient, type BlockyardClient, type BlockyardClientOptions, type BlockyardCredentials } from './blockyard-client.js';
export type { components, operations, paths } from './generated/openapi.js';
import type { components } from './generated/openapi.js';

/** The API's bodies by their contract titles: `Schemas['ExecutionBody']`. */
export type Schemas = components['schemas'];
