import { expect } from 'chai';
import { handlers } from './index.js';
import { readManifest } from '@blockyard/plugin-sdk/testing';

const manifest = readManifest(new URL('../blockyard.plugin.json', import.meta.url)) as ReturnType<typeof readManifest> & { providers: Array<Record<string, unknown>> };

describe('notion plugin', () => {
  it('exports one handler per manifest block, and no other', () => {
    expect(Object.keys(handlers).sort()).to.deep.equal(manifest.blocks.map((b) => b.id).sort());
  });

  it('declares Notion: bearer integration token, OAuth2 endpoints, capability-style scopes, NOTION_TOKEN', () => {
    const [provider] = manifest.providers;
    expect(provider).to.deep.include({ name: 'notion', base_url: 'https://api.notion.com/v1' });
    expect(provider!.auth).to.deep.include({ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' });
    expect(provider!.auth).to.deep.include({ type: 'oauth2', authorize_url: 'https://api.notion.com/v1/oauth/authorize', token_url: 'https://api.notion.com/v1/oauth/token', scopes: [] });
    expect(provider!.integration_scopes).to.deep.equal({ 'notion:read': [], 'notion:write': [] });
    expect(provider!.default_credential).to.deep.include({ env: 'NOTION_TOKEN', kind: 'api_key' });
  });

  it('needs notion:write to create and notion:read to query', () => {
    const scopes = Object.fromEntries(manifest.blocks.map((b) => [b.id, (b.credentials as { scopes?: string[] } | undefined)?.scopes]));
    expect(scopes).to.deep.equal({ 'notion.create_page': ['notion:write'], 'notion.query_database': ['notion:read'] });
  });

});
