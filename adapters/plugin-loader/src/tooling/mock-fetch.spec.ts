import { expect } from 'chai';
import { MockHttp, resolveUrl, type MockExchange } from './mock-fetch.js';

const BASE = 'https://api.acme.test/v2';

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

describe('MockHttp', () => {
  describe('answers', () => {
    it('answers requests in order with each exchange’s status, headers (lower-cased) and body', async () => {
      const mock = new MockHttp(
        [
          { method: 'GET', url: '/items', status: 200, headers: { 'Content-Type': 'application/json' }, body: { items: [1] } },
          { method: 'POST', url: '/items', status: 422, body: 'nope' },
        ],
        { baseUrl: BASE },
      );
      const fetch = mock.fetchFor();
      expect(await fetch('/items')).to.deep.equal({ status: 200, ok: true, headers: { 'content-type': 'application/json' }, data: { items: [1] }, url: `${BASE}/items` });
      expect(await fetch('/items', { method: 'post' })).to.deep.equal({ status: 422, ok: false, headers: {}, data: 'nope', url: `${BASE}/items` });
      expect(mock.problems()).to.deep.equal([]);
    });

    it('defaults to status 200 and an empty text body', async () => {
      const res = await new MockHttp([{ method: 'DELETE', url: `${BASE}/items/1` }]).fetchFor()(`${BASE}/items/1`, { method: 'DELETE' });
      expect(res).to.include({ status: 200, ok: true, data: '' });
    });

    it('gives each request its own copy of the body', async () => {
      const exchanges: MockExchange[] = [{ method: 'GET', url: '/a', body: { n: 1 } }];
      const res = await new MockHttp(exchanges, { baseUrl: BASE }).fetchFor()<{ n: number }>('/a');
      res.data.n = 2;
      expect(exchanges[0]!.body).to.deep.equal({ n: 1 });
    });

    it('rejects at once when the run has aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('cancelled'));
      const err = await rejection(new MockHttp([{ method: 'GET', url: `${BASE}/a` }]).fetchFor(controller.signal)(`${BASE}/a`));
      expect(err.message).to.equal('cancelled');
    });
  });

  describe('matching', () => {
    it('resolves relative URLs of requests and exchanges against the base URL, as context.fetch does', async () => {
      const exchanges: MockExchange[] = [
        { method: 'GET', url: 'items' },
        { method: 'GET', url: `${BASE}/items` },
        { method: 'GET', url: '/items' },
      ];
      const mock = new MockHttp(exchanges, { baseUrl: `${BASE}/` });
      const fetch = mock.fetchFor();
      await fetch('/items');
      await fetch('items');
      await fetch(`${BASE}/items`);
      expect(mock.problems()).to.deep.equal([]);
      expect(resolveUrl('/users', 'https://x.test/v1').href).to.equal('https://x.test/v1/users');
      expect(resolveUrl('?page=2', 'https://x.test/v1').href).to.equal('https://x.test/v1?page=2');
      expect(resolveUrl('https://other.test/a', 'https://x.test/v1').href).to.equal('https://other.test/a');
    });

    it('fails a request whose method differs, naming both', async () => {
      const mock = new MockHttp([{ method: 'POST', url: '/items' }], { baseUrl: BASE });
      const err = await rejection(mock.fetchFor()('/items'));
      const message = `request #1: expected POST ${BASE}/items, got GET ${BASE}/items`;
      expect(err.message).to.equal(`mocked HTTP: ${message}`);
      expect(mock.failures).to.deep.equal([message]);
    });

    it('fails a request whose path differs', async () => {
      const mock = new MockHttp([{ method: 'GET', url: '/items' }], { baseUrl: BASE });
      await rejection(mock.fetchFor()('/item'));
      expect(mock.failures).to.deep.equal([`request #1: expected GET ${BASE}/items, got GET ${BASE}/item`]);
    });

    it('compares the query string, in any order, only when the exchange gives one', async () => {
      const mock = new MockHttp(
        [
          { method: 'GET', url: '/items?page=2&limit=5' },
          { method: 'GET', url: '/items' },
          { method: 'GET', url: '/items?page=2' },
        ],
        { baseUrl: BASE },
      );
      const fetch = mock.fetchFor();
      await fetch('/items', { query: { limit: 5, page: 2, skipped: undefined } });
      await fetch('/items?anything=1');
      await rejection(fetch('/items?page=3'));
      expect(mock.failures).to.deep.equal([`request #3: expected GET ${BASE}/items?page=2, got GET ${BASE}/items?page=3`]);
    });

    it('checks request_body against the JSON body, sent as json or as a string', async () => {
      const mock = new MockHttp(
        [
          { method: 'POST', url: '/a', request_body: { name: 'x', tags: ['a'] } },
          { method: 'POST', url: '/a', request_body: { name: 'x' } },
          { method: 'POST', url: '/a', request_body: { name: 'x' } },
          { method: 'POST', url: '/a', request_body: { name: 'x' } },
          { method: 'POST', url: '/a', request_body: { name: 'x' } },
        ],
        { baseUrl: BASE },
      );
      const fetch = mock.fetchFor();
      await fetch('/a', { method: 'POST', json: { tags: ['a'], name: 'x', dropped: undefined } });
      await fetch('/a', { method: 'POST', body: '{"name":"x"}' });
      await rejection(fetch('/a', { method: 'POST', json: { name: 'y' } }));
      await rejection(fetch('/a', { method: 'POST', body: 'name=x' }));
      await rejection(fetch('/a', { method: 'POST' }));
      expect(mock.failures).to.deep.equal([
        `request #3 POST ${BASE}/a: body {"name":"y"} is not the expected {"name":"x"}`,
        `request #4 POST ${BASE}/a: the body "name=x" is not JSON, expected the JSON body {"name":"x"}`,
        `request #5 POST ${BASE}/a: no body was sent, expected the JSON body {"name":"x"}`,
      ]);
    });

    it('ignores the body when the exchange has no request_body', async () => {
      const mock = new MockHttp([{ method: 'PUT', url: '/a' }], { baseUrl: BASE });
      await mock.fetchFor()('/a', { method: 'PUT', body: 'anything' });
      expect(mock.problems()).to.deep.equal([]);
    });
  });

  describe('unexpected and missing requests', () => {
    it('fails a request after the last exchange', async () => {
      const mock = new MockHttp([{ method: 'GET', url: '/a' }], { baseUrl: BASE });
      const fetch = mock.fetchFor();
      await fetch('/a');
      const err = await rejection(fetch('/b', { method: 'POST' }));
      expect(err.message).to.equal(`mocked HTTP: unexpected request #2 POST ${BASE}/b: only 1 exchange(s) are mocked`);
      expect(mock.problems()).to.deep.equal([`unexpected request #2 POST ${BASE}/b: only 1 exchange(s) are mocked`]);
    });

    it('fails any request when none is mocked', async () => {
      const mock = new MockHttp([], { baseUrl: BASE });
      await rejection(mock.fetchFor()('/a'));
      expect(mock.problems()).to.deep.equal([`unexpected request #1 GET ${BASE}/a: only 0 exchange(s) are mocked`]);
    });

    it('reports exchanges no request used', async () => {
      const mock = new MockHttp(
        [
          { method: 'GET', url: '/a' },
          { method: 'POST', url: '/b' },
          { method: 'GET', url: '/c' },
        ],
        { baseUrl: BASE },
      );
      await mock.fetchFor()('/a');
      expect(mock.unused).to.have.length(2);
      expect(mock.problems()).to.deep.equal(['2 mocked exchange(s) not requested: POST /b, GET /c']);
    });

    it('fails a relative URL when the provider has no base URL', async () => {
      const mock = new MockHttp([{ method: 'GET', url: 'https://x.test/a' }]);
      await rejection(mock.fetchFor()('/a'));
      expect(mock.failures).to.deep.equal(['request #1 GET /a: a relative URL, but the provider has no base_url']);
    });
  });
});
