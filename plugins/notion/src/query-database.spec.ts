import { expect } from 'chai';
import { queryDatabase, type NotionPage, type QueryDatabaseInputs } from './query-database.js';
import { byName, contextFixture, fetchMock, run } from '@blockyard/plugin-sdk/testing';

const DB = 'd9824bdc84454327be8b5b47500af6ce';
const pageFixture = (n: number): NotionPage => ({ object: 'page', id: `page-${n}`, url: `https://www.notion.so/page-${n}`, properties: { Name: { type: 'title', title: [] } } });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => pageFixture(from + i));
const answer = (results: NotionPage[], next_cursor: string | null) => ({ data: { object: 'list', results, has_more: next_cursor !== null, next_cursor, type: 'page_or_database', page_or_database: {} } });
const inputsFixture = (over: Partial<QueryDatabaseInputs> = {}): QueryDatabaseInputs => ({ database_id: DB, page_size: 100, limit: 100, ...over });

describe('notion.query_database', () => {
  it('POSTs /databases/{id}/query with filter and sorts, yields each page then all', async () => {
    const filter = { property: 'Done', checkbox: { equals: false } };
    const sorts = [{ property: 'Name', direction: 'ascending' }];
    const mock = fetchMock(answer(range(1, 2), null));
    const result = await run(queryDatabase, inputsFixture({ filter, sorts }), contextFixture(mock.fetch));
    expect(result).to.deep.equal({ outputs: [['page', pageFixture(1)], ['page', pageFixture(2)], ['pages', range(1, 2)]], error: null });
    expect(mock.calls).to.have.length(1);
    expect(mock.calls[0]).to.deep.include({ url: `/databases/${DB}/query`, method: 'POST' });
    expect(mock.calls[0]!.request).to.deep.include({ json: { page_size: 100, filter, sorts }, retry: true });
    expect(mock.calls[0]!.request.headers).to.deep.include({ 'Notion-Version': '2022-06-28' });
  });

  it('follows next_cursor while has_more, asking only for what the limit still allows', async () => {
    const mock = fetchMock(answer(range(1, 10), 'c10'), answer(range(11, 20), 'c20'), answer(range(21, 25), 'c25'));
    const result = await run(queryDatabase, inputsFixture({ page_size: 10, limit: 25 }), contextFixture(mock.fetch));
    expect(mock.calls.map((c) => c.request.json)).to.deep.equal([{ page_size: 10 }, { page_size: 10, start_cursor: 'c10' }, { page_size: 5, start_cursor: 'c20' }]);
    expect(byName(result.outputs)).to.deep.equal({ page: range(1, 25), pages: [range(1, 25)] });
  });

  it('stops when has_more is false', async () => {
    const mock = fetchMock(answer(range(1, 3), 'c3'), answer(range(4, 4), null));
    const result = await run(queryDatabase, inputsFixture({ page_size: 3, limit: 100 }), contextFixture(mock.fetch));
    expect(mock.calls).to.have.length(2);
    expect(byName(result.outputs).pages).to.deep.equal([range(1, 4)]);
  });

  it('never yields more than the limit', async () => {
    const mock = fetchMock(answer(range(1, 5), 'c5'));
    const result = await run(queryDatabase, inputsFixture({ limit: 2 }), contextFixture(mock.fetch));
    expect(mock.calls[0]!.request.json).to.deep.equal({ page_size: 2 });
    expect(byName(result.outputs).pages).to.deep.equal([range(1, 2)]);
  });

  it('yields an empty list for an empty database', async () => {
    const mock = fetchMock(answer([], null));
    expect(await run(queryDatabase, inputsFixture(), contextFixture(mock.fetch))).to.deep.equal({ outputs: [['pages', []]], error: null });
  });

  it('takes the id out of a URL, and refuses what is not an id without a request', async () => {
    const mock = fetchMock(answer([], null));
    await run(queryDatabase, inputsFixture({ database_id: `https://www.notion.so/acme/Tasks-${DB}?v=9` }), contextFixture(mock.fetch));
    const refused = await run(queryDatabase, inputsFixture({ database_id: '../users/me' }), contextFixture(mock.fetch));
    expect(mock.calls.map((c) => c.url)).to.deep.equal([`/databases/${DB}/query`]);
    expect(refused.error).to.equal('database_id is not a Notion id or URL: "../users/me"');
  });

  it('yields the pages of earlier requests before a later one fails', async () => {
    const mock = fetchMock(answer(range(1, 2), 'c2'), { status: 429, headers: { 'retry-after': '1' }, data: { object: 'error', status: 429, code: 'rate_limited', message: 'Rate limited' } });
    const result = await run(queryDatabase, inputsFixture({ page_size: 2 }), contextFixture(mock.fetch));
    expect(result.error).to.equal('Notion: rate limited; retry after 1 s');
    expect(byName(result.outputs)).to.deep.equal({ page: range(1, 2) });
  });

  const errorCases: Array<[number, string, string, string]> = [
    [401, 'unauthorized', 'API token is invalid.', 'Notion: credential rejected: API token is invalid.'],
    [404, 'object_not_found', 'Could not find database with ID: x.', 'Notion: not found: Could not find database with ID: x.'],
    [400, 'validation_error', 'Could not find property with name or id: Nope', 'Notion: invalid request: Could not find property with name or id: Nope'],
  ];
  for (const [status, code, message, expected] of errorCases) {
    it(`fails on ${status} ${code}: ${expected}`, async () => {
      const mock = fetchMock({ status, data: { object: 'error', status, code, message } });
      expect(await run(queryDatabase, inputsFixture(), contextFixture(mock.fetch))).to.deep.equal({ outputs: [], error: expected });
    });
  }
});
