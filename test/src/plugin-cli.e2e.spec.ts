import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { runBlockyard } from './support/cli.js';
import { ROOT } from './support/paths.js';

const lines = (text: string) => text.trimEnd().split('\n').filter(Boolean);
/** How the CLI shows a path: relative to its working directory (ROOT) when inside it. */
const shown = (path: string) => (relative(ROOT, path).startsWith('..') ? path : relative(ROOT, path));

/** A folder `<tmp>/<name>` with these files (text, bytes or JSON values). */
function folderFixture(root: string, name: string, files: Record<string, unknown>): string {
  const dir = join(root, name);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), typeof content === 'string' || Buffer.isBuffer(content) ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const exampleIcon = () => readFileSync(join(ROOT, 'plugins/example/icon.png'));

/** A plugin with one problem of each kind validate finds. */
const brokenManifestFixture = () => ({
  name: 'broken-plugin',
  version: '1.0',
  entry: './index.mjs',
  icon: './icon.png',
  providers: [{ name: 'acme', display_name: 'Acme', auth: [{ type: 'api_key', in: 'cookie', name: 'k' }], integration_scopes: { 'acme:read': ['r'] } }],
  blocks: [
    { id: 'acme.getItems', name: 'Get', description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object' } },
    {
      id: 'nowhere.do_it',
      name: 'Do',
      description: '',
      categories: [],
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      credentials: { provider: 'acme', kinds: ['api_key'], scopes: ['acme:write'] },
    },
    {
      id: 'acme.list',
      name: 'List',
      description: '',
      categories: [],
      input_schema: { type: 'object', properties: { limit: { type: 'integr' }, page: { type: 'integer', maximum: 5 } } },
      output_schema: { type: 'object', properties: { items: { type: 'array' } } },
      tests: [{ name: 'lists', inputs: { page: 9 }, outputs: { nope: [1] } }],
    },
  ],
});

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
    fields: { type: 'object', properties: { api_token: { type: 'string', format: 'password' }, subdomain: { type: 'string' } }, required: ['api_token'] },
  },
  actions: {
    get_items: {
      display_name: 'Get Items',
      description: 'Retrieves a list of items',
      input_schema: { type: 'object', properties: { limit: { type: 'integer', default: 10, minimum: 1, maximum: 100 } }, required: [] },
      output_schema: { type: 'object', properties: { items: { type: 'array' }, count: { type: 'integer' }, result: { type: 'boolean' } } },
    },
  },
});

const autohiveEntryFixture = `
export async function get_items(inputs, context) {
  const res = await context.fetch('https://api.example.com/v1/items', { params: { limit: inputs.limit }, headers: { 'x-token': context.auth.credentials.api_token } });
  return { data: { items: res.data.items, count: res.data.items.length, result: true }, cost_usd: 0.01 };
}
`;

describe('blockyard plugin', function () {
  this.timeout(90_000);
  let tmp: string;
  beforeEach(() => (tmp = mkdtempSync(join(tmpdir(), 'blockyard-plugin-cli-'))));
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  describe('new, validate, typegen, test', () => {
    it('scaffolds a plugin that validates, gets its types and passes its self-tests as generated', async () => {
      const dir = join(tmp, 'acme-crm');
      const created = await runBlockyard(['plugin', 'new', 'acme-crm', '--dir', dir, '--action', 'create_contact'], {});
      expect(created.code, created.stderr).to.equal(0);
      expect(lines(created.stdout)[0]).to.equal(`created ${shown(dir)} with block acme_crm.create_contact:`);

      const validated = await runBlockyard(['plugin', 'validate', dir], {});
      expect(validated.code, validated.stderr).to.equal(0);
      expect(validated.stderr).to.equal('');
      expect(lines(validated.stdout)).to.deep.equal([`✓ acme-crm 0.1.0 (${shown(dir)}) is valid: 1 block, 1 provider, 2 self-tests`]);

      const typesFile = join(dir, 'src/generated/blocks.ts');
      const scaffolded = readFileSync(typesFile, 'utf8');
      rmSync(typesFile);
      const typed = await runBlockyard(['plugin', 'typegen', dir], {});
      expect(typed.code, typed.stderr).to.equal(0);
      expect(lines(typed.stdout)).to.deep.equal([`wrote ${shown(typesFile)} (AcmeCrmCreateContactInputs, AcmeCrmCreateContactOutputs)`]);
      expect(readFileSync(typesFile, 'utf8')).to.equal(scaffolded);
      const again = await runBlockyard(['plugin', 'typegen', dir], {});
      expect(lines(again.stdout)).to.deep.equal([`up to date: ${shown(typesFile)} (AcmeCrmCreateContactInputs, AcmeCrmCreateContactOutputs)`]);

      const tested = await runBlockyard(['plugin', 'test', dir], {});
      expect(tested.code, tested.stderr).to.equal(0);
      expect(lines(tested.stdout)).to.deep.equal([
        '✓ acme_crm.create_contact: creates a contact',
        '✓ acme_crm.create_contact: fails clearly when the API key is rejected',
        '2 passed, 0 failed (acme-crm)',
      ]);
    });

    it('scaffolds a handler that type-checks against the SDK and the generated types, and whose self-tests catch a regression', async () => {
      const dir = join(tmp, 'acme-crm');
      expect((await runBlockyard(['plugin', 'new', 'acme-crm', '--dir', dir, '--action', 'create_contact'], {})).code).to.equal(0);
      symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir'); // as `npm install` would provide them
      const tsc = () => spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
      const clean = tsc();
      expect(clean.status, clean.stdout).to.equal(0);

      const handler = join(dir, 'src/index.js');
      const source = readFileSync(handler, 'utf8');
      writeFileSync(handler, source.replace('async function createContact({ name, tags }', 'async function createContact({ name, tags, nickname }'));
      const typo = tsc();
      expect(typo.status).not.to.equal(0);
      expect(typo.stdout).to.contain("Property 'nickname' does not exist on type 'AcmeCrmCreateContactInputs'");

      writeFileSync(handler, source.replace("context.fetch('/contacts'", "context.fetch('/contact'"));
      const broken = await runBlockyard(['plugin', 'test', dir], {});
      expect(broken.code).to.equal(1);
      expect(lines(broken.stdout)).to.deep.equal([
        '✗ acme_crm.create_contact: creates a contact: request #1: expected POST https://api.acme-crm.example.com/v1/contacts, got POST https://api.acme-crm.example.com/v1/contact',
        '✗ acme_crm.create_contact: fails clearly when the API key is rejected: request #1: expected POST https://api.acme-crm.example.com/v1/contacts, got POST https://api.acme-crm.example.com/v1/contact',
      ]);
      expect(lines(broken.stderr)).to.deep.equal(['blockyard: self-tests failed: 0 passed, 2 failed (acme-crm)']);
    });

    it('refuses a name that is not kebab-case with exit code 2', async () => {
      const result = await runBlockyard(['plugin', 'new', 'AcmeCrm', '--dir', join(tmp, 'x')], {});
      expect(result.code).to.equal(2);
      expect(lines(result.stderr)).to.deep.equal(['blockyard: plugin name "AcmeCrm" must be kebab-case, e.g. acme-crm']);
      expect(existsSync(join(tmp, 'x'))).to.equal(false);
    });

    it('refuses to overwrite a folder that is not empty', async () => {
      const dir = folderFixture(tmp, 'taken', { 'notes.txt': 'mine' });
      const result = await runBlockyard(['plugin', 'new', 'taken', '--dir', dir], {});
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`${dir} is not empty; refusing to overwrite it`);
      expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).to.equal('mine');
    });
  });

  describe('validate', () => {
    it('reports every problem of a broken plugin with its JSON pointer, and exits 1', async () => {
      const entry = "export const handlers = { 'acme.getItems': async () => ({}), 'acme.list': async () => ({}), 'acme.extra': async () => ({}) };\n";
      const dir = folderFixture(tmp, 'broken-plugin', { 'blockyard.plugin.json': brokenManifestFixture(), 'index.mjs': entry, 'icon.png': Buffer.from('not a png') });
      const result = await runBlockyard(['plugin', 'validate', dir], {});
      expect(result.code).to.equal(1);
      expect(result.stdout).to.equal('');
      expect(lines(result.stderr)).to.deep.equal([
        '/blocks/0/id: action "getItems" must be snake_case (e.g. get_items)',
        "/blocks/1: no handler for nowhere.do_it in the entry's handlers",
        '/blocks/1/credentials/scopes/0: "acme:write" is not an integration scope of provider acme (it declares acme:read)',
        "/blocks/1/id: provider \"nowhere\" is neither declared in providers nor the plugin's own (broken or broken_plugin)",
        '/blocks/2/input_schema/properties/limit/type: must be one of ["array","boolean","integer","null","number","object","string"]',
        '/blocks/2/tests/0/outputs/nope: is not an output of this block (items)',
        '/entry: exports a handler for acme.extra, which is not a block of this manifest',
        '/icon: ./icon.png is not a PNG',
        '/providers/0/auth/0/in: must be one of ["header","query"]',
        '/version: must be a semantic version, MAJOR.MINOR.PATCH (e.g. 1.0.0)',
        `blockyard: ${shown(join(dir, 'blockyard.plugin.json'))}: 10 problems`,
      ]);
    });

    it('finds the example plugin valid', async () => {
      const result = await runBlockyard(['plugin', 'validate', 'plugins/example'], {});
      expect(result.code, result.stderr).to.equal(0);
      expect(lines(result.stdout)).to.have.length(1);
      expect(result.stdout).to.match(/^✓ @blockyard\/plugin-example 0\.1\.0 \(plugins\/example\) is valid: \d+ blocks/);
    });
  });

  describe('test', () => {
    it("runs the example plugin's self-tests", async () => {
      const result = await runBlockyard(['plugin', 'test', 'plugins/example'], {});
      expect(result.code, result.stdout + result.stderr).to.equal(0);
      expect(lines(result.stdout)).to.include('✓ example.echo: echoes its text');
      expect(lines(result.stdout).pop()).to.match(/^\d+ passed, 0 failed \(@blockyard\/plugin-example\)$/);
    });

    it('exits 1 naming each failing case, and why', async () => {
      const manifest = {
        name: 'failing',
        version: '1.0.0',
        entry: './index.mjs',
        icon: './icon.png',
        blocks: [
          {
            id: 'failing.shout',
            name: 'Shout',
            description: '',
            categories: [],
            input_schema: { type: 'object', properties: { text: { type: 'string' } } },
            output_schema: { type: 'object', properties: { text: { type: 'string' } } },
            tests: [
              { name: 'shouts', inputs: { text: 'hi' }, outputs: { text: ['HI'] } },
              { name: 'expects too much', inputs: { text: 'hi' }, outputs: { text: ['HI!'] } },
            ],
          },
        ],
      };
      const dir = folderFixture(tmp, 'failing', { 'blockyard.plugin.json': manifest, 'index.mjs': "export const handlers = { 'failing.shout': async function* ({ text }) { yield ['text', text.toUpperCase()]; } };\n", 'icon.png': exampleIcon() });
      const result = await runBlockyard(['plugin', 'test', dir], {});
      expect(result.code).to.equal(1);
      expect(lines(result.stdout)).to.deep.equal(['✓ failing.shout: shouts', '✗ failing.shout: expects too much: output text: expected ["HI!"], got ["HI"]']);
      expect(lines(result.stderr)).to.deep.equal(['blockyard: self-tests failed: 1 passed, 1 failed (failing)']);
    });

    it('exits 1 when the plugin cannot load', async () => {
      const result = await runBlockyard(['plugin', 'test', tmp], {});
      expect(result.code).to.equal(1);
      expect(result.stderr).to.contain(`${tmp} has no blockyard.plugin.json (nor an Autohive config.json)`);
    });
  });

  describe('import', () => {
    it('converts an Autohive folder, listing exactly what it could not map; the result validates and runs', async () => {
      const source = folderFixture(tmp, 'my-integration', { 'config.json': autohiveConfigFixture(), 'my_integration.mjs': autohiveEntryFixture, 'icon.png': exampleIcon() });
      const out = join(tmp, 'imported');
      const imported = await runBlockyard(['plugin', 'import', source, '--out', out], {});
      expect(imported.code, imported.stderr).to.equal(0);
      expect(lines(imported.stdout)).to.deep.equal([
        `wrote ${shown(join(out, 'blockyard.plugin.json'))}`,
        `wrote ${shown(join(out, 'blockyard.entry.mjs'))}`,
        '1 block: my_integration.get_items',
        'could not map 3 fields of config.json:',
        '  /supports_connected_account: Blockyard has no connected-account display',
        '  /auth/fields/properties/subdomain: a Blockyard api_key credential holds one secret: only "api_token" is mapped',
        '  /auth/title: Blockyard has no title for an auth section; the provider display_name names it',
      ]);
      const manifest = JSON.parse(readFileSync(join(out, 'blockyard.plugin.json'), 'utf8'));
      expect(manifest.providers).to.deep.equal([
        { name: 'my_integration', display_name: 'My Integration', auth: [{ type: 'api_key', in: 'header', name: 'Authorization', prefix: 'Bearer ' }] },
      ]);
      expect(manifest.blocks[0].credentials).to.deep.equal({ provider: 'my_integration', kinds: ['api_key'] });

      const validated = await runBlockyard(['plugin', 'validate', out], {});
      expect(validated.code, validated.stderr).to.equal(0);

      manifest.blocks[0].tests = [
        {
          name: 'lists items',
          inputs: { limit: 2 },
          credential: { api_key: 'secret' },
          http: [{ method: 'GET', url: 'https://api.example.com/v1/items?limit=2', body: { items: ['a', 'b'] } }],
          outputs: { items: [['a', 'b']], count: [2], result: [true] },
        },
      ];
      writeFileSync(join(out, 'blockyard.plugin.json'), JSON.stringify(manifest));
      const tested = await runBlockyard(['plugin', 'test', out], {});
      expect(tested.code, tested.stdout + tested.stderr).to.equal(0);
      expect(lines(tested.stdout)).to.deep.equal(['✓ my_integration.get_items: lists items', '1 passed, 0 failed (my-integration)']);
    });

    it('validates an Autohive folder as it is, noting unmapped fields and pointing into config.json', async () => {
      const source = folderFixture(tmp, 'my-integration', { 'config.json': autohiveConfigFixture(), 'my_integration.mjs': autohiveEntryFixture, 'icon.png': exampleIcon() });
      const ok = await runBlockyard(['plugin', 'validate', source], {});
      expect(ok.code, ok.stderr).to.equal(0);
      expect(lines(ok.stderr)).to.include('note: not mapped from config.json: /supports_connected_account: Blockyard has no connected-account display');

      const config = autohiveConfigFixture() as Record<string, unknown>;
      delete config.version;
      writeFileSync(join(source, 'config.json'), JSON.stringify(config));
      writeFileSync(join(source, 'my_integration.mjs'), 'export const nothing = 1;\n');
      const broken = await runBlockyard(['plugin', 'validate', source], {});
      expect(broken.code).to.equal(1);
      expect(lines(broken.stderr).filter((l) => !l.startsWith('note: '))).to.deep.equal([
        '/actions/get_items: the entry exports no function get_items',
        '/version: is required',
        `blockyard: ${shown(join(source, 'config.json'))}: 2 problems`,
      ]);
    });

    it('exits 2 for a folder without config.json', async () => {
      const result = await runBlockyard(['plugin', 'import', tmp], {});
      expect(result.code).to.equal(2);
      expect(lines(result.stderr)).to.deep.equal([`blockyard: ${tmp} has no Autohive config.json`]);
    });
  });
});
