export * from './oauth-server.js';
export * from './signing-keys.js';
export { storageId, clientMetadata } from './oidc-storage.adapter.js';
export { oauthServerModule, OAuthServerService } from './oauth-server.module.js';
