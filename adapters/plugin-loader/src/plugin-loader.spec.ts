import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InMemoryBlockRegistry } from '@blockyard/core';
import { loadPlugins } from './plugin-loader.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const blockDef = (id: string) => ({ id, name: id, description: '', categories: [], input_schema: { type: 'object' }, output_schema: { type: 'object', properties: { ok: { type: 'boolean' } } } });
const dirs: string[] = [];

function pluginFixture(manifest: unknown, entry = "export const handlers = { 'fix.one': async () => ({ data: { ok: true } }) };\n"): string {
  const dir = mkdtempSync(join(tmpdir(), 'blockyard-loader-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'blockyard.plugin.json'), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  writeFileSync(join(dir, 'index.mjs'), entry);
  return dir;
}
const manifestFixture = (over: Record<string, unknown> = {}) => ({ name: 'fixture', version: '1.0.0', entry: './index.mjs', blocks: [blockDef('fix.one')], ...over });

describe('loadPlugins', () => {
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('loads a first-party plugin by package name', async () => {
    const registry = new InMemoryBlockRegistry();
    const [status] = await loadPlugins(['@blockyard/plugin-example'], registry, { resolveFrom: ROOT });
    expect(status).to.include({ status: 'loaded', name: '@blockyard/plugin-example', error: null });
    expect(status!.blocks).to.include('example.echo');
    expect(registry.get('example.echo')?.source).to.equal('@blockyard/plugin-example');
  });

  it('loads a plugin by path, its handlers runnable', async () => {
    const registry = new InMemoryBlockRegistry();
    const [status] = await loadPlugins([pluginFixture(manifestFixture())], registry);
    expect(status!.status).to.equal('loaded');
    const outcome = await registry.get('fix.one')!.handler({}, {} as never);
    expect(outcome).to.deep.equal({ data: { ok: true } });
  });

  it('skips a package that is not installed, and still loads the others', async () => {
    const registry = new InMemoryBlockRegistry();
    const statuses = await loadPlugins(['@blockyard/no-such-plugin', pluginFixture(manifestFixture())], registry, { resolveFrom: ROOT });
    expect(statuses.map((s) => s.status)).to.deep.equal(['failed', 'loaded']);
    expect(statuses[0]!.error).to.equal('plugin package @blockyard/no-such-plugin is not installed');
  });

  it('reports every invalid manifest field with its JSON pointer', async () => {
    const [status] = await loadPlugins([pluginFixture(manifestFixture({ version: 'one', blocks: [{ ...blockDef('fix.one'), id: 'Bad Id' }] }))], new InMemoryBlockRegistry());
    expect(status!.status).to.equal('failed');
    expect(status!.error).to.contain('/version: must match pattern').and.to.contain('/blocks/0/id: must match pattern');
  });

  it('reports a manifest that is not JSON', async () => {
    const [status] = await loadPlugins([pluginFixture('{ nope')], new InMemoryBlockRegistry());
    expect(status!.error).to.match(/blockyard\.plugin\.json is not valid JSON/);
  });

  it('reports an entry point that throws while loading', async () => {
    const [status] = await loadPlugins([pluginFixture(manifestFixture(), "throw new Error('boom at import');\n")], new InMemoryBlockRegistry());
    expect(status!.error).to.equal('entry point ./index.mjs threw while loading: boom at import');
  });

  it('reports a block without a handler, registering none of the plugin', async () => {
    const registry = new InMemoryBlockRegistry();
    const [status] = await loadPlugins([pluginFixture(manifestFixture({ blocks: [blockDef('fix.one'), blockDef('fix.two')] }))], registry);
    expect(status!.error).to.equal('no handler exported for block(s): fix.two');
    expect(registry.list()).to.have.length(0);
  });

  it('reports a missing entry file', async () => {
    const [status] = await loadPlugins([pluginFixture(manifestFixture({ entry: './missing.mjs' }))], new InMemoryBlockRegistry());
    expect(status!.error).to.contain('entry point ./missing.mjs does not exist');
  });

  it('skips a plugin whose trigger listens to events its provider does not send, registering none of it', async () => {
    const registry = new InMemoryBlockRegistry();
    const trigger = { ...blockDef('fix.on_event'), kind: 'trigger', webhook: { events: ['created', 'exploded'] } };
    const provider = { name: 'fix', display_name: 'Fix', auth: [], webhooks: { event_types: ['created'] } };
    const entry = "export const handlers = { 'fix.one': async () => ({}), 'fix.on_event': async () => ({}) };\nexport const webhooks = { fix: { verify: () => true, events: () => [] } };\n";
    const [status] = await loadPlugins([pluginFixture(manifestFixture({ providers: [provider], blocks: [blockDef('fix.one'), trigger] }), entry)], registry);
    expect(status!.status).to.equal('failed');
    expect(status!.error).to.equal('invalid trigger webhooks: /blocks/1/webhook/events/1: "exploded" is not a webhook event type of provider fix (it declares created)');
    expect(registry.list()).to.have.length(0);
  });

  it('reports a block id another plugin already provides', async () => {
    const registry = new InMemoryBlockRegistry();
    const statuses = await loadPlugins([pluginFixture(manifestFixture()), pluginFixture(manifestFixture({ name: 'second' }))], registry);
    expect(statuses[1]!.status).to.equal('failed');
    expect(statuses[1]!.error).to.equal('block fix.one is already provided by fixture');
  });

  it('loads an Autohive-style folder (config.json), logging each field it could not map', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'blockyard-autohive-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        name: 'tiny-hive',
        version: '1.0.0',
        description: 'An Autohive integration',
        entry_point: 'tiny.mjs',
        supports_billing: false,
        auth: { type: 'none' },
        actions: {
          shout: {
            display_name: 'Shout',
            description: 'Upper-cases',
            input_schema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
            output_schema: { type: 'object', properties: { text: { type: 'string' } } },
            icon: 'megaphone',
          },
        },
      }),
    );
    writeFileSync(join(dir, 'tiny.mjs'), 'export async function shout(inputs) { return { data: { text: inputs.text.toUpperCase() } }; }\n');
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => void warnings.push(m), error() {}, child: () => logger };
    const registry = new InMemoryBlockRegistry();
    const [status] = await loadPlugins([dir], registry, { logger });
    expect(status, status?.error ?? '').to.include({ status: 'loaded', name: 'tiny-hive' });
    expect(status!.blocks).to.deep.equal(['tiny_hive.shout']);
    const outcome = await registry.get('tiny_hive.shout')!.handler({ text: 'hey' }, {} as never);
    expect(outcome).to.deep.include({ data: { text: 'HEY' } });
    expect(warnings.some((w) => w.includes('config.json/actions/shout/icon') && w.includes('not mapped'))).to.equal(true, warnings.join('\n'));
  });
});
