import { AccessTokenVerifier, AppAuthorizations } from '@blockyard/core';
import { ContainerModule } from 'inversify';
import type { OAuthServer } from './oauth-server.js';

/** The authorization server itself (for the HTTP adapter to mount). */
export const OAuthServerService = Symbol.for('blockyard/OAuthServer');

/** Binds the authorization server and, through it, the AccessTokenVerifier for bearer tokens and the users' AppAuthorizations (the connect flow). */
export function oauthServerModule(server: OAuthServer): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(OAuthServerService).toConstantValue(server);
    bind(AccessTokenVerifier).toConstantValue(server);
    bind(AppAuthorizations).toConstantValue(server);
  });
}
