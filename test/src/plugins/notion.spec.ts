import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ContractValidators } from '@blockyard/contracts';
import type { ResolvedCredential } from '@blockyard/core';
import { ROOT } from '../support/paths.js';
import { runPluginBlock } from '../support/plugin-harness.js';
import { startNotionApi, type NotionApiStandIn, type NotionDatabase, type NotionPageRecord } from '../support/stand-ins/notion-api.js';

const PLUGIN = '@blockyard/plugin-notion';
const TOKEN = 'secret_standin0123456789';
const token: ResolvedCredential = { kind: 'api_key', api_key: TOKEN };
const paragraph = (content: string) => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content } }] } });

describe('plugin @blockyard/plugin-notion, run by the real loader, engine and context.fetch against a Notion stand-in', () => {
  let notion: NotionApiStandIn;
  let database: NotionDatabase;
  beforeEach(async () => {
    notion = await startNotionApi({ token: TOKEN });
    database = notion.addDatabase('Recipes');
  });
  afterEach(() => notion.close());

  const runBlock = (blockId: string, inputs: Record<string, unknown>, credential: ResolvedCredential = token) => runPluginBlock({ plugin: PLUGIN, blockId, inputs, credential, baseUrl: notion.url });
  const bodyOf = (i: number) => notion.received[i]!.body as Record<string, unknown>;

  it('has a manifest valid against plugin-manifest.schema.json', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'plugins/notion/blockyard.plugin.json'), 'utf8'));
    const result = new ContractValidators().validate('plugin-manifest.schema.json', manifest);
    expect(result.ok, JSON.stringify(!result.ok && result.issues)).to.equal(true);
  });

  describe('notion.create_page', () => {
    it('POSTs /v1/pages with the Bearer token and Notion-Version, creating a database entry with its properties and paragraphs', async () => {
      const outcome = await runBlock('notion.create_page', {
        database_id: database.id,
        title: 'Tuscan kale',
        properties: { Tags: { multi_select: [{ name: 'Vegetable' }] }, Done: { checkbox: true } },
        content: 'Kale is a leafy green.\n\nIt grows in winter.',
      });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      const page = notion.pages.find((p) => p.parent.type === 'database_id')!;
      expect(outcome.outputs).to.deep.equal({ page: [{ id: page.id, url: page.url }] });
      expect(page.properties.Name!.title).to.deep.equal([{ type: 'text', text: { content: 'Tuscan kale' } }]);
      expect(page.properties.Done!.checkbox).to.equal(true);
      expect(page.properties.Tags!.multi_select).to.deep.equal([{ name: 'Vegetable' }]);
      expect(notion.children.get(page.id)).to.deep.equal([paragraph('Kale is a leafy green.'), paragraph('It grows in winter.')]);
      const [request] = notion.received;
      expect(request).to.deep.include({ method: 'POST', path: '/v1/pages' });
      expect(request!.headers.authorization).to.equal(`Bearer ${TOKEN}`);
      expect(request!.headers['notion-version']).to.equal('2022-06-28');
    });

    it('creates a sub-page under a page given by its URL, appending content past 100 paragraphs in batches', async () => {
      const parent = notion.addPage('Notes');
      const content = Array.from({ length: 230 }, (_, i) => `Paragraph ${i + 1}`);
      const outcome = await runBlock('notion.create_page', { page_id: parent.url, title: 'Long read', content });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      const page = notion.pages.at(-1)!;
      expect(page.parent).to.deep.equal({ type: 'page_id', page_id: parent.id });
      expect(notion.received.map((r) => `${r.method} ${r.path}`)).to.deep.equal(['POST /v1/pages', `PATCH /v1/blocks/${page.id}/children`, `PATCH /v1/blocks/${page.id}/children`]);
      expect(notion.children.get(page.id)).to.deep.equal(content.map(paragraph));
    });

    it('splits text longer than 2000 characters into several rich-text pieces', async () => {
      const long = 'x'.repeat(4500);
      const outcome = await runBlock('notion.create_page', { database_id: database.id, title: 'Long', content: [long] });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      const [block] = notion.children.get(notion.pages.at(-1)!.id) as Array<{ paragraph: { rich_text: Array<{ text: { content: string } }> } }>;
      expect(block!.paragraph.rich_text.map((t) => t.text.content.length)).to.deep.equal([2000, 2000, 500]);
    });

    it('fails with "not found" for a database not shared with the integration', async () => {
      const outcome = await runBlock('notion.create_page', { database_id: '0123456789abcdef0123456789abcdef', title: 'T' });
      expect(outcome.status).to.equal('failed');
      expect(outcome.error).to.equal('Notion: not found: Could not find database with ID: 0123456789abcdef0123456789abcdef. Make sure the relevant pages and databases are shared with your integration.');
    });

    it('fails with Notion’s validation message for a property the database lacks', async () => {
      const outcome = await runBlock('notion.create_page', { database_id: database.id, title: 'T', properties: { Colour: { select: { name: 'Green' } } } });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Notion: invalid request: Colour is not a property that exists.' });
      expect(notion.pages.filter((p) => p.parent.type === 'database_id')).to.have.length(0);
    });

    it('fails with "credential rejected" for a token Notion does not know, without the token in the message', async () => {
      const outcome = await runBlock('notion.create_page', { database_id: database.id, title: 'T' }, { kind: 'api_key', api_key: 'secret_wrong0123' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Notion: credential rejected: API token is invalid.' });
    });

    it('fails with "rate limited; retry after N s" on 429, and never sends the creation twice', async () => {
      notion.rateLimitNext(1, 3);
      const outcome = await runBlock('notion.create_page', { database_id: database.id, title: 'T' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Notion: rate limited; retry after 3 s' });
      expect(notion.received).to.have.length(1);
    });

    it('refuses both parents, or none, before any request', async () => {
      const both = await runBlock('notion.create_page', { database_id: database.id, page_id: database.id, title: 'T' });
      const none = await runBlock('notion.create_page', { title: 'T' });
      expect(both.status).to.equal('failed');
      expect(none.status).to.equal('failed');
      expect(both.error).to.contain('invalid inputs for block notion.create_page');
      expect(none.error).to.contain('invalid inputs for block notion.create_page');
      expect(notion.received).to.have.length(0);
    });
  });

  describe('notion.query_database', () => {
    it('follows has_more / next_cursor until the limit, yielding each page then all', async () => {
      const seeded = notion.seedPages(database, 250);
      const outcome = await runBlock('notion.query_database', { database_id: database.id, limit: 230 });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(notion.received.map((r) => `${r.method} ${r.path}`)).to.deep.equal(Array(3).fill(`POST /v1/databases/${database.id}/query`));
      expect(notion.received.map((_, i) => bodyOf(i))).to.deep.equal([{ page_size: 100 }, { page_size: 100, start_cursor: seeded[100]!.id }, { page_size: 30, start_cursor: seeded[200]!.id }]);
      expect(notion.received.every((r) => r.headers.authorization === `Bearer ${TOKEN}` && r.headers['notion-version'] === '2022-06-28')).to.equal(true);
      const ids = seeded.slice(0, 230).map((p) => p.id);
      expect((outcome.outputs.page as NotionPageRecord[]).map((p) => p.id)).to.deep.equal(ids);
      expect((outcome.outputs.pages![0] as NotionPageRecord[]).map((p) => p.id)).to.deep.equal(ids);
      expect(outcome.outputs.page![0]).to.deep.equal(seeded[0]);
    });

    it('stops when has_more is false, and passes filter and sorts on', async () => {
      const seeded = notion.seedPages(database, 9, 3);
      const outcome = await runBlock('notion.query_database', {
        database_id: database.id,
        filter: { property: 'Done', checkbox: { equals: true } },
        sorts: [{ timestamp: 'created_time', direction: 'descending' }],
        page_size: 2,
      });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(notion.received).to.have.length(2);
      expect(bodyOf(0)).to.deep.equal({ page_size: 2, filter: { property: 'Done', checkbox: { equals: true } }, sorts: [{ timestamp: 'created_time', direction: 'descending' }] });
      expect((outcome.outputs.pages![0] as NotionPageRecord[]).map((p) => p.id)).to.deep.equal([seeded[8]!.id, seeded[5]!.id, seeded[2]!.id]);
    });

    it('takes the database from its Notion URL', async () => {
      notion.seedPages(database, 1);
      const outcome = await runBlock('notion.query_database', { database_id: `https://www.notion.so/acme/Recipes-${database.id.replace(/-/g, '')}?v=123` });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(notion.received[0]!.path).to.equal(`/v1/databases/${database.id.replace(/-/g, '')}/query`);
      expect(outcome.outputs.page).to.have.length(1);
    });

    it('is retried by the platform after a 429 (a read), and completes', async () => {
      notion.seedPages(database, 2);
      notion.rateLimitNext(1, 1);
      const outcome = await runBlock('notion.query_database', { database_id: database.id });
      expect(outcome.status, outcome.error ?? '').to.equal('completed');
      expect(notion.received).to.have.length(2);
      expect(outcome.outputs.page).to.have.length(2);
    });

    it('fails with Notion’s validation message for a filter on a property the database lacks', async () => {
      const outcome = await runBlock('notion.query_database', { database_id: database.id, filter: { property: 'Nope', checkbox: { equals: true } } });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Notion: invalid request: Could not find property with name or id: Nope' });
    });

    it('fails with "not found" for a database not shared with the integration', async () => {
      const outcome = await runBlock('notion.query_database', { database_id: '0123456789abcdef0123456789abcdef' });
      expect(outcome.error).to.match(/^Notion: not found: Could not find database with ID: 0123456789abcdef0123456789abcdef\./);
    });

    it('fails with "credential rejected" for a wrong token', async () => {
      const outcome = await runBlock('notion.query_database', { database_id: database.id }, { kind: 'api_key', api_key: 'secret_wrong' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'Notion: credential rejected: API token is invalid.' });
    });

    it('refuses an id that is not one before any request', async () => {
      const outcome = await runBlock('notion.query_database', { database_id: '../users/me' });
      expect(outcome).to.deep.include({ status: 'failed', error: 'database_id is not a Notion id or URL: "../users/me"' });
      expect(notion.received).to.have.length(0);
    });
  });
});
