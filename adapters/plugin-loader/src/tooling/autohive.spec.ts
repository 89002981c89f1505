import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ActionError, type BlockContext, type BlockHandler, type ResolvedCredential } from '@blockyard/core';
import { adaptAutohiveAction, convertAutohiveConfig, toAutohivePointer, type AutohiveRuntime } from './autohive.js';
import { importAutohiveFolder } from './autohive-import.js';
import { handlersOf, loadPluginEntry, PluginFolderError, readPluginFolder } from './plugin-folder.js';
import { runSelfTests } from './self-test.js';
import { folderFixture, iconFixture, removeFixtures, tempDirFixture } from './tooling.fixtures.js';

/** The reference guide's config.json, with custom auth and a second, camelCase action. */
const autohiveConfigFixture = () => ({
  name: 'my-integration',
  version: '1.0.0',
  display_name: 'My Integration',
  description: 'Fetches data from the Example API',
  entry_point: 'my_integration.mjs',
  supports_billing: true,
  supports_connected_account: true,
  auth: {
    type: 'custom',
    title: 'API Token Authentication',
    fields: {
      type: 'object',
      properties: { api_token: { type: 'string', format: 'password', label: 'API Token' }, subdomain: { type: 'string' } },
      required: ['api_token'],
    },
  },
  actions: {
    get_items: {
      display_name: 'Get Items',
      description: 'Retrieves a list of items from the Example API',
      input_schema: { type: 'object', properties: { limit: { type: 'integer', default: 10, minimum: 1, maximum: 100 } }, required: [] },
      output_schema: { type: 'object', properties: { items: { type: 'array' }, count: { type: 'integer' }, result: { type: 'boolean' }, error: { type: 'string' } } },
    },
    createItem: {
      description: 'Creates an item',
      input_schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
      output_schema: { type: 'object', properties: { id: { type: 'string' } } },
      icon: 'plus',
    },
  },
});

/** Its entry point: one named export, one in `handlers`. */
const autohiveEntryFixture = `
export async function get_items(inputs, context) {
  const res = await context.fetch('https://api.example.com/v1/items', { params: { limit: inputs.limit }, headers: { 'x-token': context.auth.credentials.api_token } });
  return { data: { items: res.data.items, count: res.data.items.length, result: true }, cost_usd: 0.25 };
}
export const handlers = { createItem: async (inputs) => ({ data: { id: 'item-' + inputs.name } }) };
`;

function contextFixture(credentials: ResolvedCredential | null, fetch: BlockContext['fetch'] = () => Promise.reject(new Error('no fetch'))): BlockContext {
  return { executionId: 'spec', blockId: 'spec', signal: new AbortController().signal, logger: { debug() {}, info() {}, warn() {}, error() {} }, addCost() {}, credentials, fetch };
}

describe('convertAutohiveConfig', () => {
  it('maps metadata, actions and custom auth to a manifest', () => {
    const { manifest, runtime } = convertAutohiveConfig(autohiveConfigFixture());
    expect(manifest).to.deep.include({ name: 'my-integration', version: '1.0.0', display_name: 'My Integration', description: 'Fetches data from the Example API', entry: './my_integration.mjs' });
    expect(manifest.providers).to.deep.equal([
      { name: 'my_integration', display_name: 'My Integration', auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }] },
    ]);
    expect(manifest.blocks.map((b) => [b.id, b.name, b.description])).to.deep.equal([
      ['my_integration.get_items', 'Get Items', 'Retrieves a list of items from the Example API'],
      ['my_integration.create_item', 'Create item', 'Creates an item'],
    ]);
    expect(manifest.blocks[0]).to.deep.include({
      categories: [],
      kind: 'action',
      input_schema: autohiveConfigFixture().actions.get_items.input_schema,
      output_schema: autohiveConfigFixture().actions.get_items.output_schema,
      credentials: { provider: 'my_integration', kinds: ['api_key'] },
    });
    expect(runtime).to.deep.equal({
      authType: 'custom',
      credentialField: 'api_token',
      billing: true,
      actions: { 'my_integration.get_items': 'get_items', 'my_integration.create_item': 'createItem' },
    });
  });

  it('lists exactly the fields it could not map, with their JSON pointers', () => {
    expect(convertAutohiveConfig(autohiveConfigFixture()).unmapped).to.deep.equal([
      { path: '/supports_connected_account', reason: 'Blockyard has no connected-account display' },
      { path: '/auth/fields/properties/subdomain', reason: 'a Blockyard api_key credential holds one secret: only "api_token" is mapped' },
      { path: '/auth/title', reason: 'Blockyard has no title for an auth section; the provider display_name names it' },
      { path: '/actions/get_items/output_schema/properties/error', reason: 'an `error` output fails the run in Blockyard; an action returning it in data fails' },
      { path: '/actions/createItem', reason: 'action name "createItem" is not snake_case: the block id uses "create_item"' },
      { path: '/actions/createItem/icon', reason: 'not an Autohive action field Blockyard knows' },
    ]);
  });

  it('maps platform auth to an oauth2 provider with placeholder endpoints, and lists them', () => {
    const { supports_connected_account: _, ...rest } = autohiveConfigFixture();
    const config = { ...rest, auth: { type: 'platform', provider: 'github', scopes: ['repo', 'read:user'] } };
    const { manifest, unmapped, runtime } = convertAutohiveConfig(config);
    expect(manifest.providers).to.deep.equal([
      {
        name: 'github',
        display_name: 'Github',
        auth: [{ type: 'oauth2', authorize_url: 'https://github.invalid/oauth/authorize', token_url: 'https://github.invalid/oauth/token', scopes: ['repo', 'read:user'] }],
      },
    ]);
    expect(manifest.blocks[0]!.credentials).to.deep.equal({ provider: 'github', kinds: ['oauth2'] });
    expect(runtime.authType).to.equal('platform');
    expect(unmapped[0]).to.deep.equal({
      path: '/auth/provider',
      reason: 'platform OAuth2 provider "github": its endpoints are Autohive\'s, not in config.json; /providers/0/auth/0/authorize_url and token_url are placeholders to fill in',
    });
  });

  it('maps no auth, or none, to blocks without credentials', () => {
    for (const auth of [undefined, { type: 'none' }]) {
      const { manifest, runtime } = convertAutohiveConfig({ ...autohiveConfigFixture(), auth });
      expect(manifest.providers).to.equal(undefined);
      expect(manifest.blocks.every((b) => b.credentials === undefined)).to.equal(true);
      expect(runtime.authType).to.equal('none');
    }
  });

  it('lists an unknown auth type, a Python entry point, an output schema without properties and unknown fields', () => {
    const config = autohiveConfigFixture() as Record<string, unknown>;
    config.auth = { type: 'magic' };
    config.entry_point = 'my_integration.py';
    config.homepage = 'https://example.com';
    (config.actions as Record<string, Record<string, unknown>>).get_items!.output_schema = { type: 'object' };
    const { manifest, unmapped } = convertAutohiveConfig(config);
    expect(manifest.entry).to.equal('./my_integration.py');
    expect(unmapped.map((u) => u.path)).to.deep.equal([
      '/entry_point',
      '/supports_connected_account',
      '/homepage',
      '/auth/type',
      '/actions/get_items/output_schema',
      '/actions/createItem',
      '/actions/createItem/icon',
    ]);
    expect(unmapped[0]!.reason).to.contain('a Python entry point cannot run in Blockyard');
    expect(unmapped[3]!.reason).to.equal('auth type "magic" is not custom, platform or none: no credentials mapped');
    expect(unmapped[4]!.reason).to.contain('has no properties');
  });

  it('answers a config that is not an object with one unmapped entry', () => {
    expect(convertAutohiveConfig([1, 2]).unmapped).to.deep.equal([{ path: '', reason: 'config.json is not a JSON object' }]);
  });
});

describe('toAutohivePointer', () => {
  it('turns pointers into the converted manifest into pointers into config.json', () => {
    const { manifest, runtime } = convertAutohiveConfig(autohiveConfigFixture());
    const at = (p: string) => toAutohivePointer(p, runtime, manifest);
    expect(at('/blocks/1/input_schema/properties/name/type')).to.equal('/actions/createItem/input_schema/properties/name/type');
    expect(at('/blocks/1')).to.equal('/actions/createItem');
    expect(at('/blocks/0/id')).to.equal('/actions/get_items');
    expect(at('/blocks/0/name')).to.equal('/actions/get_items/display_name');
    expect(at('/blocks/0/credentials/provider')).to.equal('/auth');
    expect(at('/entry')).to.equal('/entry_point');
    expect(at('/providers/0/auth/0/in')).to.equal('/auth');
    expect(at('/version')).to.equal('/version');
  });
});

describe('adaptAutohiveAction', () => {
  const runtime: AutohiveRuntime = { authType: 'custom', credentialField: 'api_token', billing: true, actions: {} };

  it('gives the action context.auth as Autohive shapes it, and its fetch options', async () => {
    const seen: unknown[] = [];
    const handler = adaptAutohiveAction(
      'a',
      async (_inputs, context) => {
        seen.push(context.auth);
        await context.fetch('https://x.test/items', { params: { limit: 5 }, method: 'GET' });
        await context.fetch('https://x.test/form', { method: 'POST', data: { name: 'x y' } });
        return { data: {} };
      },
      runtime,
    );
    const calls: unknown[] = [];
    await handler({}, contextFixture({ kind: 'api_key', api_key: 'k-1' }, async (url, request) => (calls.push([url, request]), { status: 200, ok: true, headers: {}, data: '', url }) as never));
    expect(seen).to.deep.equal([{ auth_type: 'custom', credentials: { api_token: 'k-1' } }]);
    expect(calls).to.deep.equal([
      ['https://x.test/items', { method: 'GET', query: { limit: 5 } }],
      ['https://x.test/form', { method: 'POST', body: 'name=x+y', headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ]);
  });

  it('shapes platform auth as PlatformOauth2 with the access token, and no auth as {}', async () => {
    const auths: unknown[] = [];
    const spy = async (_: unknown, context: { auth: unknown }) => (auths.push(context.auth), { data: {} });
    await adaptAutohiveAction('a', spy, { ...runtime, authType: 'platform', credentialField: null })({}, contextFixture({ kind: 'oauth2', access_token: 't', scopes: [] }));
    await adaptAutohiveAction('a', spy, { ...runtime, authType: 'none', credentialField: null })({}, contextFixture(null));
    expect(auths).to.deep.equal([{ auth_type: 'PlatformOauth2', credentials: { access_token: 't' } }, {}]);
  });

  it('turns its results into Blockyard results', async () => {
    const run = (result: unknown, billing = true) => (adaptAutohiveAction('a', async () => result, { ...runtime, billing }) as BlockHandler)({}, contextFixture(null));
    expect(await run({ data: { n: 1 }, cost_usd: 0.5 })).to.deep.equal({ data: { n: 1 }, costUsd: 0.5 });
    expect(await run({ data: { n: 1 }, cost_usd: 0.5 }, false)).to.deep.equal({ data: { n: 1 }, costUsd: 0 });
    expect(await run({ error: 'quota exceeded', cost_usd: 0.1 })).to.deep.equal({ error: 'quota exceeded', costUsd: 0.1 });
    expect(await run({ n: 2 })).to.deep.equal({ data: { n: 2 }, costUsd: 0 });
    expect(await run(undefined)).to.equal(undefined);
    expect(await run('text')).to.deep.equal({ error: 'Autohive action a returned string; expected { data, cost_usd }' });
    const error = new ActionError('not found', 0.2);
    expect(await run(error)).to.equal(error);
  });
});

describe('Autohive folders', () => {
  after(removeFixtures);
  const autohiveFolderFixture = (files: Record<string, unknown> = {}) =>
    folderFixture({ 'config.json': autohiveConfigFixture(), 'my_integration.mjs': autohiveEntryFixture, 'icon.png': iconFixture(), ...files }, 'my-integration');

  it('readPluginFolder converts config.json, taking icon.png as the icon', () => {
    const folder = readPluginFolder(autohiveFolderFixture());
    expect(folder.kind).to.equal('autohive');
    expect(folder.file).to.match(/config\.json$/);
    expect(folder.manifest.icon).to.equal('./icon.png');
    expect(folder.unmapped).to.have.length(6);
  });

  it('readPluginFolder notes an SVG icon, which Blockyard cannot use', () => {
    const dir = folderFixture({ 'config.json': autohiveConfigFixture(), 'icon.svg': '<svg/>' }, 'svg-icon');
    const folder = readPluginFolder(dir);
    expect(folder.manifest.icon).to.equal(undefined);
    expect(folder.unmapped).to.deep.include({ path: '', reason: 'icon.svg: Blockyard icons are 512×512 PNGs (icon.png)' });
  });

  it('readPluginFolder prefers blockyard.plugin.json, and throws without either file', () => {
    expect(readPluginFolder(autohiveFolderFixture({ 'blockyard.plugin.json': { name: 'x' } })).kind).to.equal('blockyard');
    expect(() => readPluginFolder(tempDirFixture())).to.throw(PluginFolderError, 'has no blockyard.plugin.json (nor an Autohive config.json)');
    expect(() => readPluginFolder(folderFixture({ 'config.json': '{ nope' }))).to.throw(PluginFolderError, 'config.json is not valid JSON');
  });

  it('loadPluginEntry adapts the entry’s action functions to handlers keyed by block id', async () => {
    const folder = readPluginFolder(autohiveFolderFixture());
    const entry = await loadPluginEntry(folder);
    expect(Object.keys(entry.handlers!)).to.deep.equal(['my_integration.get_items', 'my_integration.create_item']);
    const fetch = (async (url: string) => ({ status: 200, ok: true, headers: {}, data: { items: ['a', 'b'] }, url })) as never;
    const outcome = await (entry.handlers!['my_integration.get_items'] as BlockHandler)({ limit: 2 }, contextFixture({ kind: 'api_key', api_key: 'k' }, fetch));
    expect(outcome).to.deep.equal({ data: { items: ['a', 'b'], count: 2, result: true }, costUsd: 0.25 });
  });

  it('handlersOf keeps extra keys of a handlers export, so that they can be reported', () => {
    const folder = readPluginFolder(autohiveFolderFixture());
    const handlers = handlersOf({ get_items() {}, handlers: { createItem() {}, stray() {} } }, folder)!;
    expect(Object.keys(handlers)).to.deep.equal(['my_integration.get_items', 'my_integration.create_item', 'stray']);
  });

  describe('importAutohiveFolder', () => {
    it('writes a manifest and an entry that adapts the actions, in another folder', async () => {
      const source = autohiveFolderFixture();
      const out = join(tempDirFixture(), 'imported');
      const result = importAutohiveFolder(source, { out });
      expect(result.files).to.deep.equal([join(out, 'blockyard.plugin.json'), join(out, 'blockyard.entry.mjs')]);
      const manifest = JSON.parse(readFileSync(join(out, 'blockyard.plugin.json'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(manifest)).to.deep.equal(['name', 'version', 'display_name', 'description', 'entry', 'icon', 'providers', 'blocks']);
      expect(manifest).to.include({ entry: './blockyard.entry.mjs', icon: relative(out, join(source, 'icon.png')) });
      expect(result.unmapped.map((u) => u.path)).to.include('/supports_connected_account');

      const generated = (await import(pathToFileURL(join(out, 'blockyard.entry.mjs')).href)) as { handlers: Record<string, BlockHandler> };
      expect(Object.keys(generated.handlers)).to.deep.equal(['my_integration.get_items', 'my_integration.create_item']);
      expect(await generated.handlers['my_integration.create_item']!({ name: 'x' }, contextFixture(null))).to.deep.equal({ data: { id: 'item-x' }, costUsd: 0 });
    });

    it('gives a folder whose self-tests run through the generated entry', async () => {
      const source = autohiveFolderFixture();
      importAutohiveFolder(source);
      const file = join(source, 'blockyard.plugin.json');
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { blocks: Array<Record<string, unknown>> };
      manifest.blocks[0]!.tests = [
        {
          name: 'lists items',
          inputs: { limit: 2 },
          credential: { api_key: 'k' },
          http: [{ method: 'GET', url: 'https://api.example.com/v1/items?limit=2', body: { items: ['a', 'b'] } }],
          outputs: { items: [['a', 'b']], count: [2], result: [true] },
        },
      ];
      writeFileSync(file, JSON.stringify(manifest));
      const report = await runSelfTests(source);
      expect(report.results.map((r) => [r.name, r.reason])).to.deep.equal([['lists items', null]]);
      expect(report.results[0]!.outcome!.costUsd).to.equal(0.25);
    });

    it('leaves a Python entry point as it is, writing no adapter', () => {
      const source = autohiveFolderFixture({ 'config.json': { ...autohiveConfigFixture(), entry_point: 'my_integration.py' } });
      expect(importAutohiveFolder(source).files).to.deep.equal([join(source, 'blockyard.plugin.json')]);
      expect(existsSync(join(source, 'blockyard.entry.mjs'))).to.equal(false);
      expect(JSON.parse(readFileSync(join(source, 'blockyard.plugin.json'), 'utf8')).entry).to.equal('./my_integration.py');
    });

    it('refuses to overwrite a manifest without force', () => {
      const out = join(tempDirFixture(), 'out');
      importAutohiveFolder(autohiveFolderFixture(), { out });
      expect(() => importAutohiveFolder(autohiveFolderFixture(), { out })).to.throw(PluginFolderError, 'exists; pass --force to overwrite it');
      expect(() => importAutohiveFolder(autohiveFolderFixture(), { out, force: true })).not.to.throw();
    });

    it('refuses a folder that is already a Blockyard plugin, or has no config.json', () => {
      const source = autohiveFolderFixture();
      importAutohiveFolder(source);
      expect(() => importAutohiveFolder(source)).to.throw(PluginFolderError, 'already has a blockyard.plugin.json');
      expect(() => importAutohiveFolder(tempDirFixture())).to.throw(PluginFolderError, 'has no Autohive config.json');
    });
  });
});
