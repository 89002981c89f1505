import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { checkManifest, formatProblem, validatePlugin } from './validate-plugin.js';
import { blockFixture, folderFixture, iconFixture, manifestFixture, pluginFixture, removeFixtures, tempDirFixture } from './tooling.fixtures.js';

const EXAMPLE_PLUGIN = fileURLToPath(new URL('../../../../plugins/example', import.meta.url));
const problemsOf = (manifest: unknown) => checkManifest(manifest).map(formatProblem);

const providerFixture = (over: Record<string, unknown> = {}) => ({
  name: 'acme',
  display_name: 'Acme',
  base_url: 'https://api.acme.test/v1',
  auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }],
  integration_scopes: { 'acme:contacts.read': ['contacts:read'] },
  ...over,
});

describe('checkManifest', () => {
  it('finds nothing wrong with a valid manifest', () => {
    expect(problemsOf(manifestFixture({ providers: [providerFixture()], blocks: [blockFixture('acme.list_contacts', { credentials: { provider: 'acme', kinds: ['api_key'], scopes: ['acme:contacts.read'] } })] }))).to.deep.equal([]);
  });

  describe('the manifest schema', () => {
    it('reports every schema violation with its pointer', () => {
      const manifest = manifestFixture({ version: 'one', homepage: 'x', blocks: [{ ...blockFixture('fixture_plugin.one'), name: '', kind: 'job' }, { id: 'fixture_plugin.two' }] });
      delete manifest.entry;
      expect(problemsOf(manifest)).to.have.deep.members([
        '/entry: is required',
        '/homepage: is not allowed',
        '/version: must be a semantic version, MAJOR.MINOR.PATCH (e.g. 1.0.0)',
        '/blocks/0/name: must NOT have fewer than 1 characters',
        '/blocks/0/kind: must be one of ["action","trigger"]',
        '/blocks/1/name: is required',
        '/blocks/1/description: is required',
        '/blocks/1/categories: is required',
        '/blocks/1/input_schema: is required',
        '/blocks/1/output_schema: is required',
      ]);
    });

    it('reports an auth method against the branch its type picks, or the unknown type', () => {
      const provider = providerFixture({ auth: [{ type: 'api_key', in: 'cookie', name: 'k' }, { type: 'oauth2', authorize_url: 'https://a.test/auth' }, { type: 'magic' }, 'basic'] });
      expect(problemsOf(manifestFixture({ providers: [provider] }))).to.have.deep.members([
        '/providers/0/auth/0/in: must be one of ["header","query"]',
        '/providers/0/auth/1/token_url: is required',
        '/providers/0/auth/2/type: must be one of ["api_key","oauth2","user_password","host_scoped"]',
        '/providers/0/auth/3: must match exactly one schema in oneOf',
      ]);
    });

    it('names integration scopes that do not look like provider:scope', () => {
      expect(problemsOf(manifestFixture({ providers: [providerFixture({ integration_scopes: { 'Contacts Read': [] } })] }))).to.have.deep.members([
        '/providers/0/integration_scopes/Contacts Read: must be <provider>:<scope> in lowercase, e.g. acme_crm:contacts.write',
        '/providers/0/integration_scopes/Contacts Read: must start with "acme:", the provider\'s name',
      ]);
    });

    it('reports a manifest that is not an object', () => {
      expect(problemsOf([1])).to.deep.equal(['/: must be object']);
    });
  });

  describe('naming rules', () => {
    it('wants snake_case actions and a provider that is declared or the plugin’s own', () => {
      const blocks = ['fixture_plugin.getItems', 'acme.list', 'nowhere.do_it', 'fixture-plugin.ok_too', 'plain', 'a.b.c'].map((id) => blockFixture(id));
      expect(problemsOf(manifestFixture({ providers: [providerFixture()], blocks }))).to.have.deep.members([
        '/blocks/0/id: action "getItems" must be snake_case (e.g. get_items)',
        '/blocks/2/id: provider "nowhere" is neither declared in providers nor the plugin\'s own (fixture or fixture_plugin)',
        '/blocks/4/id: must be <provider>.<action>, e.g. fixture.create_contact',
        '/blocks/5/id: must be <provider>.<action>, e.g. fixture.create_contact',
      ]);
    });

    it('reports duplicate block ids and provider names, and provider names out of style', () => {
      const manifest = manifestFixture({
        providers: [providerFixture(), providerFixture(), providerFixture({ name: 'Acme' })],
        blocks: [blockFixture('acme.one'), blockFixture('acme.one')],
      });
      expect(problemsOf(manifest)).to.have.deep.members([
        '/providers/1/name: duplicates /providers/0/name',
        '/providers/2/name: must be lowercase letters and digits in words joined by _ or -, starting with a letter (e.g. acme_crm)',
        '/blocks/1/id: duplicates /blocks/0/id',
      ]);
    });

    it('wants credential providers declared, with the scopes and auth methods blocks ask for', () => {
      const manifest = manifestFixture({
        providers: [providerFixture({ default_credential: { env: 'ACME_TOKEN', kind: 'oauth2' } })],
        blocks: [
          blockFixture('acme.one', { credentials: { provider: 'acme', kinds: ['api_key', 'oauth2'], scopes: ['acme:contacts.read', 'acme:contacts.write'] } }),
          blockFixture('acme.two', { credentials: { provider: 'ghost', kinds: ['api_key'] } }),
        ],
      });
      expect(problemsOf(manifest)).to.have.deep.members([
        '/providers/0/default_credential/kind: provider acme has no oauth2 auth method',
        '/blocks/0/credentials/kinds/1: provider acme has no oauth2 auth method',
        '/blocks/0/credentials/scopes/1: "acme:contacts.write" is not an integration scope of provider acme (it declares acme:contacts.read)',
        '/blocks/1/credentials/provider: provider "ghost" is not declared in providers',
      ]);
    });
  });

  describe('trigger webhooks', () => {
    const sends = providerFixture({ webhooks: { event_types: ['contact.created', 'contact.deleted'], mode: 'manual' } });
    const trigger = (webhook?: Record<string, unknown>, over: Record<string, unknown> = {}) =>
      blockFixture('acme.contact_event', { kind: 'trigger', input_schema: { type: 'object', properties: { payload: { type: 'object' }, list_id: { type: 'string' } } }, ...(webhook ? { webhook } : {}), ...over });

    it('accepts a trigger declaring events of its provider and config inputs it has', () => {
      expect(problemsOf(manifestFixture({ providers: [sends], blocks: [trigger({ events: ['contact.created'], config_inputs: ['list_id'] })] }))).to.deep.equal([]);
    });

    it('wants a trigger to declare its events, and only triggers to declare any', () => {
      expect(problemsOf(manifestFixture({ providers: [sends], blocks: [trigger(), blockFixture('acme.list_contacts', { webhook: { events: ['contact.created'] } })] }))).to.deep.equal([
        '/blocks/0/webhook: is required for a trigger block: { "events": [...] }, the event types of its provider\'s webhooks that fire it',
        '/blocks/1/webhook: only trigger blocks take webhook events: set "kind": "trigger" or remove it',
      ]);
    });

    it('names events its provider does not send, config inputs the block lacks, and providers without webhooks', () => {
      expect(problemsOf(manifestFixture({ providers: [sends], blocks: [trigger({ events: ['contact.created', 'deal.won'], config_inputs: ['list_id', 'board'] })] }))).to.have.deep.members([
        '/blocks/0/webhook/config_inputs/1: "board" is not an input of this block (payload, list_id)',
        '/blocks/0/webhook/events/1: "deal.won" is not a webhook event type of provider acme (it declares contact.created, contact.deleted)',
      ]);
      expect(problemsOf(manifestFixture({ providers: [providerFixture()], blocks: [trigger({ events: ['contact.created'] })] }))).to.deep.equal([
        '/blocks/0/webhook: provider acme of this trigger declares no webhooks (providers[].webhooks with its event_types and manager)',
      ]);
    });
  });

  describe("blocks' schemas", () => {
    it('reports schemas that are not valid JSON Schema, with pointers into them', () => {
      const blocks = [
        blockFixture('fixture_plugin.a', { input_schema: { type: 'object', properties: { limit: { type: 'integr' }, page: { type: 'integer', minimum: 'one' } } } }),
        blockFixture('fixture_plugin.b', { output_schema: { type: 'object', properties: { a: { pattern: '(' } } } }),
        blockFixture('fixture_plugin.c', { input_schema: { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } } }),
      ];
      expect(problemsOf(manifestFixture({ blocks }))).to.have.deep.members([
        '/blocks/0/input_schema/properties/limit/type: must be one of ["array","boolean","integer","null","number","object","string"]',
        '/blocks/0/input_schema/properties/page/minimum: must be number',
        '/blocks/1/output_schema: does not compile: Invalid regular expression: /(/u: Unterminated group',
        "/blocks/2/input_schema: does not compile: can't resolve reference #/definitions/missing from id #",
      ]);
    });

    it('reports defaults that their own schema rejects, even beside a broken property', () => {
      const input = { type: 'object', properties: { limit: { type: 'integer', maximum: 100, default: 500 }, broken: { type: 'nope' } } };
      expect(problemsOf(manifestFixture({ blocks: [blockFixture('fixture_plugin.a', { input_schema: input })] }))).to.have.deep.members([
        '/blocks/0/input_schema/properties/limit/default: must be <= 100',
        '/blocks/0/input_schema/properties/broken/type: must be one of ["array","boolean","integer","null","number","object","string"]',
      ]);
    });
  });

  describe('self-test cases', () => {
    const block = (tests: unknown[], over: Record<string, unknown> = {}) =>
      blockFixture('acme.list', {
        input_schema: { type: 'object', required: ['limit'], properties: { limit: { type: 'integer', maximum: 100 } } },
        output_schema: { type: 'object', properties: { items: { type: 'array' } } },
        tests,
        ...over,
      });

    it('checks inputs against the input schema and expected outputs against the output schema', () => {
      const tests = [
        { name: 'a', inputs: { limit: 500 } },
        { name: 'b', inputs: {}, outputs: { items: [[1], 'x'], nope: [1], error: ['boom'] } },
        { name: 'a', inputs: { limit: 1 } },
      ];
      expect(problemsOf(manifestFixture({ providers: [providerFixture()], blocks: [block(tests)] }))).to.have.deep.members([
        '/blocks/0/tests/0/inputs/limit: must be <= 100',
        '/blocks/0/tests/1/inputs/limit: is required',
        '/blocks/0/tests/1/outputs/items/1: must be array',
        '/blocks/0/tests/1/outputs/nope: is not an output of this block (items)',
        '/blocks/0/tests/1/outputs/error: a run yields no `error` output (it fails with it): expect it with the case\'s "error"',
        '/blocks/0/tests/2/name: duplicates /blocks/0/tests/0/name',
      ]);
    });

    it('wants a base_url for relative URLs of mocked exchanges', () => {
      const tests = [{ name: 'a', inputs: { limit: 1 }, http: [{ method: 'GET', url: '/items' }, { method: 'GET', url: 'https://x.test/items' }] }];
      expect(problemsOf(manifestFixture({ providers: [providerFixture({ base_url: undefined })], blocks: [block(tests)] }))).to.deep.equal([
        '/blocks/0/tests/0/http/0/url: is relative, but provider acme has no base_url',
      ]);
      expect(problemsOf(manifestFixture({ providers: [providerFixture()], blocks: [block(tests)] }))).to.deep.equal([]);
    });
  });
});

describe('validatePlugin', () => {
  after(removeFixtures);

  it('finds a complete plugin folder valid', async () => {
    const result = await validatePlugin(pluginFixture());
    expect(result.problems).to.deep.equal([]);
    expect(result).to.include({ ok: true, kind: 'blockyard' });
  });

  it('finds the example plugin valid', async () => {
    expect((await validatePlugin(EXAMPLE_PLUGIN)).problems.map(formatProblem)).to.deep.equal([]);
  });

  it('reports every problem at once, in document order', async () => {
    const manifest = manifestFixture({ version: 'x', blocks: [blockFixture('fixture_plugin.one'), ...Array.from({ length: 10 }, (_, i) => blockFixture(`fixture_plugin.b${i}`))] });
    const result = await validatePlugin(pluginFixture(manifest, "export const handlers = { 'fixture_plugin.one': () => {}, 'fixture_plugin.b9': () => {} };", { 'icon.png': iconFixture(64) }, 'Bad_Name'));
    expect(result.ok).to.equal(false);
    expect(result.problems.map(formatProblem)).to.deep.equal([
      '/: directory name "Bad_Name" must be kebab-case (e.g. bad-name)',
      ...Array.from({ length: 9 }, (_, i) => `/blocks/${i + 1}: no handler for fixture_plugin.b${i} in the entry's handlers`),
      '/icon: ./icon.png is 64×64; it must be 512×512',
      '/version: must be a semantic version, MAJOR.MINOR.PATCH (e.g. 1.0.0)',
    ]);
  });

  describe('the folder and its manifest', () => {
    it('reports a folder without a manifest', async () => {
      const dir = tempDirFixture();
      expect((await validatePlugin(dir)).problems).to.deep.equal([{ path: '', message: `${dir} has no blockyard.plugin.json (nor an Autohive config.json)` }]);
    });

    it('reports a manifest that is not JSON', async () => {
      const dir = folderFixture({ 'blockyard.plugin.json': '{ nope' });
      const [problem] = (await validatePlugin(dir)).problems;
      expect(problem!.path).to.equal('');
      expect(problem!.message).to.match(/blockyard\.plugin\.json is not valid JSON: /);
    });
  });

  describe('the entry point', () => {
    const problems = async (entry: string, manifest = manifestFixture()) => (await validatePlugin(pluginFixture(manifest, entry))).problems.map(formatProblem);

    it('reports a missing entry file', async () => {
      expect((await validatePlugin(pluginFixture(manifestFixture({ entry: './dist/index.js' })))).problems.map(formatProblem)).to.deep.equal(['/entry: ./dist/index.js does not exist (was the plugin built?)']);
    });

    it('reports an entry that throws while loading', async () => {
      expect(await problems("throw new Error('boom');")).to.deep.equal(['/entry: ./index.mjs threw while loading: boom']);
    });

    it('reports an entry without handlers', async () => {
      expect(await problems('export const nothing = 1;')).to.deep.equal(['/entry: ./index.mjs does not export `handlers` (block id -> handler)']);
    });

    it('reports missing, extra and non-function handlers', async () => {
      const manifest = manifestFixture({ blocks: [blockFixture('fixture_plugin.one'), blockFixture('fixture_plugin.two'), blockFixture('fixture_plugin.three')] });
      expect(await problems("export const handlers = { 'fixture_plugin.one': () => {}, 'fixture_plugin.three': 'no', 'fixture_plugin.extra': () => {} };", manifest)).to.deep.equal([
        "/blocks/1: no handler for fixture_plugin.two in the entry's handlers",
        '/blocks/2: the handler of fixture_plugin.three is not a function',
        '/entry: exports a handler for fixture_plugin.extra, which is not a block of this manifest',
      ]);
    });

    it('accepts handlers on the default export', async () => {
      expect(await problems("export default { handlers: { 'fixture_plugin.one': () => {} } };")).to.deep.equal([]);
    });

    it('wants a webhook manager for each provider that sends webhooks', async () => {
      const manifest = manifestFixture({ providers: [{ name: 'fixture_plugin', display_name: 'F', auth: [], webhooks: { event_types: ['ping'] } }] });
      const handlers = "export const handlers = { 'fixture_plugin.one': () => {} };";
      expect(await problems(handlers, manifest)).to.deep.equal(['/providers/0/webhooks: the entry exports no webhook manager for fixture_plugin (webhooks.fixture_plugin)']);
      expect(await problems(`${handlers} export const webhooks = { fixture_plugin: { verify() {}, events() {} } };`, manifest)).to.deep.equal([]);
    });

    it('does not import the entry when told not to', async () => {
      expect((await validatePlugin(pluginFixture(manifestFixture(), "throw new Error('imported');"), { entry: false })).problems).to.deep.equal([]);
    });
  });

  describe('the icon', () => {
    const iconProblems = async (manifest: Record<string, unknown>, icon?: Buffer | string) =>
      (await validatePlugin(pluginFixture(manifest, undefined, icon === undefined ? {} : { 'icon.png': icon }))).problems.map(formatProblem);

    it('wants one', async () => {
      const manifest = manifestFixture();
      delete manifest.icon;
      expect(await iconProblems(manifest)).to.deep.equal(['/icon: is required: the path of a 512×512 PNG, e.g. ./icon.png']);
    });

    it('wants the file to exist', async () => {
      expect(await iconProblems(manifestFixture({ icon: './missing.png' }))).to.deep.equal(['/icon: ./missing.png does not exist']);
    });

    it('wants a PNG', async () => {
      expect(await iconProblems(manifestFixture(), '<svg xmlns="http://www.w3.org/2000/svg"/>')).to.deep.equal(['/icon: ./icon.png is not a PNG']);
    });

    it('wants 512×512', async () => {
      expect(await iconProblems(manifestFixture(), iconFixture(256))).to.deep.equal(['/icon: ./icon.png is 256×256; it must be 512×512']);
    });
  });

  describe('Autohive folders', () => {
    const config = (over: Record<string, unknown> = {}) => ({
      name: 'my-integration',
      version: '1.0.0',
      description: 'd',
      entry_point: 'main.mjs',
      actions: {
        get_items: {
          description: 'Gets items',
          input_schema: { type: 'object', properties: { limit: { type: 'integer', maximum: 100, default: 10 } } },
          output_schema: { type: 'object', properties: { items: { type: 'array' } } },
        },
      },
      ...over,
    });

    it('validates the converted manifest, noting what was not mapped', async () => {
      const dir = folderFixture({ 'config.json': config({ supports_connected_account: true }), 'main.mjs': 'export async function get_items() { return { data: { items: [] } }; }', 'icon.png': iconFixture() }, 'my-integration');
      const result = await validatePlugin(dir);
      expect(result).to.include({ ok: true, kind: 'autohive' });
      expect(result.unmapped).to.deep.equal([{ path: '/supports_connected_account', reason: 'Blockyard has no connected-account display' }]);
    });

    it('reports problems with pointers into config.json', async () => {
      const broken = config({ version: undefined });
      (broken.actions.get_items.input_schema.properties.limit as Record<string, unknown>).default = 500;
      (broken.actions as Record<string, unknown>).other = { description: 'x', input_schema: { type: 'object' } };
      const dir = folderFixture({ 'config.json': broken, 'main.mjs': 'export const unrelated = 1;' }, 'my-integration');
      expect((await validatePlugin(dir)).problems.map(formatProblem)).to.deep.equal([
        '/actions/get_items: the entry exports no function get_items',
        '/actions/get_items/input_schema/properties/limit/default: must be <= 100',
        '/actions/other: the entry exports no function other',
        '/actions/other/output_schema: is required',
        '/icon: icon.png is required beside config.json: a 512×512 PNG',
        '/version: is required',
      ]);
    });
  });
});
