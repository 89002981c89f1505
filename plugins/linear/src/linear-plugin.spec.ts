import { expect } from 'chai';
import { handlers } from './index.js';
import { readManifest } from '@blockyard/plugin-sdk/testing';

const manifest = readManifest(new URL('../blockyard.plugin.json', import.meta.url)) as ReturnType<typeof readManifest> & { providers: Array<Record<string, unknown>> };

describe('linear plugin', () => {
  it('exports one handler per manifest block, and no other', () => {
    expect(Object.keys(handlers).sort()).to.deep.equal(manifest.blocks.map((b) => b.id).sort());
  });

  it('declares Linear: raw API key in Authorization, OAuth2 with its endpoints and scopes, LINEAR_API_KEY', () => {
    const [provider] = manifest.providers;
    expect(provider).to.deep.include({ name: 'linear', base_url: 'https://api.linear.app' });
    expect(provider!.auth).to.deep.include({ type: 'api_key', in: 'header', name: 'Authorization' });
    expect(provider!.auth).to.deep.include({
      type: 'oauth2',
      authorize_url: 'https://linear.app/oauth/authorize',
      token_url: 'https://api.linear.app/oauth/token',
      revoke_url: 'https://api.linear.app/oauth/revoke',
      scopes: ['read', 'write', 'issues:create'],
      scope_separator: ',',
    });
    expect(provider!.integration_scopes).to.deep.equal({ 'linear:read': ['read'], 'linear:write': ['write', 'issues:create'] });
    expect(provider!.default_credential).to.deep.include({ env: 'LINEAR_API_KEY', kind: 'api_key' });
  });

  it('needs linear:write to create and linear:read to list', () => {
    const scopes = Object.fromEntries(manifest.blocks.map((b) => [b.id, (b.credentials as { scopes?: string[] } | undefined)?.scopes]));
    expect(scopes).to.deep.equal({ 'linear.create_issue': ['linear:write'], 'linear.list_issues': ['linear:read'] });
  });

});
