import type { ProviderOAuthOptions } from '@blockyard/core';
import type { ServerConfig } from './config.js';

/** `github` -> `BLOCKYARD_OAUTH_GITHUB`: the env prefix of a provider's OAuth client. */
export function oauthEnvPrefix(provider: string): string {
  return `BLOCKYARD_OAUTH_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Provider OAuth2 from the environment: each provider's client from
 * BLOCKYARD_OAUTH_<PROVIDER>_CLIENT_ID / _CLIENT_SECRET, and the callback URL under
 * BLOCKYARD_PUBLIC_URL (default http://HOST:PORT).
 */
export function oauthOptionsFromConfig(config: ServerConfig): ProviderOAuthOptions {
  const publicUrl = (config.env.BLOCKYARD_PUBLIC_URL?.trim() || `http://${config.host}:${config.port}`).replace(/\/+$/, '');
  return {
    clients: (provider) => {
      const prefix = oauthEnvPrefix(provider);
      const clientId = config.env[`${prefix}_CLIENT_ID`]?.trim();
      if (!clientId) return undefined;
      const clientSecret = config.env[`${prefix}_CLIENT_SECRET`]?.trim();
      return clientSecret ? { clientId, clientSecret } : { clientId };
    },
    redirectUri: (provider) => `${publicUrl}/api/v1/integrations/${encodeURIComponent(provider)}/callback`,
  };
}
