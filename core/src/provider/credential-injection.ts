import type { AuthMethod, ProviderDefinition } from '@blockyard/contracts';
import type { ResolvedCredential } from '../block/block.js';
import type { CredentialInjection } from '../outbound/outbound-http.port.js';

/**
 * How a resolved credential goes into requests to its provider, as the provider's auth
 * methods declare: an API key in the header or query parameter the provider names, an OAuth2
 * access token as a bearer token, a user/password as basic auth, host-scoped headers as they are.
 */
export function credentialInjection(provider: ProviderDefinition | undefined, credential: ResolvedCredential): CredentialInjection {
  switch (credential.kind) {
    case 'oauth2':
      return { type: 'bearer', token: credential.access_token };
    case 'user_password':
      return { type: 'basic', username: credential.username, password: credential.password };
    case 'host_scoped':
      return { type: 'host_scoped', host: credential.host, headers: credential.headers };
    case 'api_key': {
      const method = provider?.auth.find((m): m is Extract<AuthMethod, { type: 'api_key' }> => m.type === 'api_key');
      if (!method) return { type: 'bearer', token: credential.api_key };
      if (method.in === 'query') return { type: 'query', name: method.name, value: credential.api_key };
      if (method.name.toLowerCase() === 'authorization' && method.prefix === 'Bearer ') return { type: 'bearer', token: credential.api_key };
      return { type: 'header', name: method.name, value: `${method.prefix ?? ''}${credential.api_key}` };
    }
  }
}
