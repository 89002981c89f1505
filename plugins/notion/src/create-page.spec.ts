import { expect } from 'chai';
import { createPage, MAX_TEXT_LENGTH, paragraphBlocks, richText } from './create-page.js';
import { contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

const DB = 'd9824bdc84454327be8b5b47500af6ce';
const P1 = 'b55c9c91-384d-452b-81db-d1ef79372b75';
const created = { object: 'page', id: '59833787-2cf9-4fdf-8782-e53db20768a5', url: 'https://www.notion.so/Kale-598337872cf94fdf8782e53db20768a5', properties: {} };
const para = (content: string) => ({ object: 'block', type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content } }] } });

describe('notion.create_page', () => {
  it('POSTs /pages under a database with the title as the title property, and yields page { id, url }', async () => {
    const mock = fetchMock({ data: created });
    const result = await run(createPage, { database_id: DB, title: 'Kale', properties: { Tags: { multi_select: [{ name: 'Green' }] } } }, contextFixture(mock.fetch));
    expect(result).to.deep.equal({ outputs: [['page', { id: created.id, url: created.url }]], error: null });
    expect(mock.calls).to.have.length(1);
    expect(mock.calls[0]).to.deep.include({ url: '/pages', method: 'POST' });
    expect(mock.calls[0]!.request.headers).to.deep.include({ 'Notion-Version': '2022-06-28' });
    expect(mock.calls[0]!.request.json).to.deep.equal({
      parent: { database_id: DB },
      properties: { Tags: { multi_select: [{ name: 'Green' }] }, title: { title: [{ type: 'text', text: { content: 'Kale' } }] } },
    });
  });

  it('creates a sub-page under page_id, with content as paragraphs', async () => {
    const mock = fetchMock({ data: created });
    await run(createPage, { page_id: P1, title: 'Notes', content: 'One.\n\nTwo\nstill two.\n  \n\nThree.' }, contextFixture(mock.fetch));
    expect(mock.calls[0]!.request.json).to.deep.equal({
      parent: { page_id: P1 },
      properties: { title: { title: [{ type: 'text', text: { content: 'Notes' } }] } },
      children: [para('One.'), para('Two\nstill two.'), para('Three.')],
    });
  });

  it('takes the parent id out of a Notion URL', async () => {
    const mock = fetchMock({ data: created });
    await run(createPage, { database_id: `https://www.notion.so/acme/Recipes-${DB}?v=1`, title: 'Kale' }, contextFixture(mock.fetch));
    expect((mock.calls[0]!.request.json as { parent: unknown }).parent).to.deep.equal({ database_id: DB });
  });

  it('appends content past 100 paragraphs with PATCH /blocks/{id}/children, 100 at a time', async () => {
    const mock = fetchMock({ data: created }, { data: { object: 'list', results: [] } }, { data: { object: 'list', results: [] } });
    const content = Array.from({ length: 250 }, (_, i) => `p${i}`);
    const result = await run(createPage, { page_id: P1, title: 'Long', content }, contextFixture(mock.fetch));
    expect(result.error).to.equal(null);
    expect(mock.calls.map((c) => `${c.method} ${c.url}`)).to.deep.equal(['POST /pages', `PATCH /blocks/${created.id}/children`, `PATCH /blocks/${created.id}/children`]);
    const children = mock.calls.map((c) => (c.request.json as { children: Array<{ paragraph: { rich_text: Array<{ text: { content: string } }> } }> }).children);
    expect(children.map((c) => c.length)).to.deep.equal([100, 100, 50]);
    expect(children.flat().map((b) => b.paragraph.rich_text[0]!.text.content)).to.deep.equal(content);
    expect(mock.calls[1]!.request.headers).to.deep.include({ 'Notion-Version': '2022-06-28' });
  });

  it('says the page exists when appending its content fails', async () => {
    const mock = fetchMock({ data: created }, { status: 400, data: { object: 'error', status: 400, code: 'validation_error', message: 'body failed validation' } });
    const result = await run(createPage, { page_id: P1, title: 'Long', content: Array.from({ length: 101 }, () => 'x') }, contextFixture(mock.fetch));
    expect(result.error).to.equal(`the page was created (${created.url}) but only part of its content was added: Notion: invalid request: body failed validation`);
  });

  it('refuses both or neither parent, without a request', async () => {
    const mock = fetchMock();
    expect((await run(createPage, { title: 'x' }, contextFixture(mock.fetch))).error).to.equal('give the parent as either database_id or page_id');
    expect((await run(createPage, { title: 'x', database_id: DB, page_id: P1 }, contextFixture(mock.fetch))).error).to.equal('give the parent as either database_id or page_id');
    expect((await run(createPage, { title: 'x', page_id: 'Home' }, contextFixture(mock.fetch))).error).to.equal('page_id is not a Notion id or URL: "Home"');
    expect(mock.calls).to.have.length(0);
  });

  const errorCases: Array<[number, string, string, Record<string, string>, string]> = [
    [401, 'unauthorized', 'API token is invalid.', {}, 'Notion: credential rejected: API token is invalid.'],
    [404, 'object_not_found', 'Could not find database with ID: d98. Make sure the relevant pages and databases are shared with your integration.', {}, 'Notion: not found: Could not find database with ID: d98. Make sure the relevant pages and databases are shared with your integration.'],
    [400, 'validation_error', 'Tags is not a property that exists.', {}, 'Notion: invalid request: Tags is not a property that exists.'],
    [429, 'rate_limited', 'You have been rate limited.', { 'Retry-After': '4' }, 'Notion: rate limited; retry after 4 s'],
  ];
  for (const [status, code, message, headers, expected] of errorCases) {
    it(`fails on ${status} ${code}: ${expected}`, async () => {
      const mock = fetchMock({ status, headers, data: { object: 'error', status, code, message } });
      expect(await run(createPage, { database_id: DB, title: 'Kale' }, contextFixture(mock.fetch))).to.deep.equal({ outputs: [], error: expected });
    });
  }
});

describe('richText', () => {
  it(`splits text into pieces of at most ${MAX_TEXT_LENGTH} characters`, () => {
    const text = 'a'.repeat(4500);
    expect(richText(text).map((t) => t.text.content.length)).to.deep.equal([2000, 2000, 500]);
    expect(richText(text).map((t) => t.text.content).join('')).to.equal(text);
  });
});

describe('paragraphBlocks', () => {
  it('makes one paragraph per item of a list, dropping empty ones', () => {
    expect(paragraphBlocks(['a', ' ', 'b'])).to.deep.equal([para('a'), para('b')]);
    expect(paragraphBlocks(undefined)).to.deep.equal([]);
    expect(paragraphBlocks('\r\nx\r\n\r\ny')).to.deep.equal([para('x'), para('y')]);
  });
});
