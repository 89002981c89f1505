import { pluginFixture } from './plugin-fixtures.js';
import type { OAuthProviderStandIn } from './stand-ins/oauth-provider.js';

/** The provider the fixture plugin declares. */
export const STANDIN_PROVIDER = 'standin';
/** Its one block: `GET whoami` at the stand-in's API with the run's credential. */
export const STANDIN_WHOAMI = 'standin.whoami';

/**
 * A plugin folder (for BLOCKYARD_PLUGINS) declaring the provider `standin` at the local OAuth2
 * stand-in: its API at `${provider.url}/api`, and every credential kind — api_key (header
 * `X-Api-Key`), oauth2 (authorize, token and revoke endpoints of the stand-in, PKCE),
 * user_password (basic auth) and host_scoped. Its block `standin.whoami` calls `GET whoami`
 * through context.fetch and yields the status and the login the API names; it never yields
 * anything the API received, so a secret it sent cannot come back through the run.
 */
export function standInPluginFixture(provider: OAuthProviderStandIn): string {
  const manifest = {
    name: 'standin-plugin',
    version: '1.0.0',
    display_name: 'Stand-in',
    description: 'A provider played by the local OAuth2 stand-in, for end-to-end tests.',
    entry: './index.mjs',
    providers: [
      {
        name: STANDIN_PROVIDER,
        display_name: 'Stand-in',
        base_url: `${provider.url}/api`,
        auth: [
          { type: 'api_key', in: 'header', name: 'X-Api-Key' },
          { type: 'oauth2', authorize_url: `${provider.url}/authorize`, token_url: `${provider.url}/token`, revoke_url: `${provider.url}/revoke`, pkce: true, scopes: ['read'], scope_separator: ' ' },
          { type: 'user_password' },
          { type: 'host_scoped' },
        ],
        integration_scopes: { 'standin:read': ['read'] },
      },
    ],
    blocks: [
      {
        id: STANDIN_WHOAMI,
        name: 'Who am I',
        description: 'Asks the stand-in API who the credential belongs to.',
        categories: ['developer_tools'],
        kind: 'action',
        input_schema: { type: 'object', additionalProperties: false, properties: {} },
        output_schema: { type: 'object', properties: { status: { type: 'integer' }, login: { type: 'string' }, via: { type: 'string' } } },
        credentials: { provider: STANDIN_PROVIDER, kinds: ['api_key', 'oauth2', 'user_password', 'host_scoped'], scopes: ['standin:read'] },
        timeout_ms: 30_000,
      },
    ],
  };
  const entry = `
export const handlers = {
  '${STANDIN_WHOAMI}': async function* (_inputs, context) {
    const res = await context.fetch('whoami');
    if (!res.ok) throw new Error('the stand-in API answered ' + res.status);
    const data = res.data ?? {};
    yield ['status', res.status];
    yield ['login', String(data.login)];
    yield ['via', String(data.via)];
  },
};
`;
  return pluginFixture(manifest, entry);
}
