import { expect } from 'chai';
import { OutboundRequestError } from '@blockyard/plugin-sdk';
import { handlers, httpRequest, type HttpRequestInputs } from './index.js';
import { contextFixture, fetchMock, readManifest, run } from '@blockyard/plugin-sdk/testing';

const manifest = readManifest(new URL('../blockyard.plugin.json', import.meta.url));
const inputsFixture = (over: Partial<HttpRequestInputs> = {}): HttpRequestInputs => ({ url: 'https://api.example.com/items', method: 'GET', headers: {}, query: {}, ...over });

describe('http plugin', () => {
  it('exports one handler per manifest block, and no other', () => {
    expect(Object.keys(handlers).sort()).to.deep.equal(manifest.blocks.map((b) => b.id).sort());
  });

  it('declares the http provider with host-scoped auth and no base URL, and no credential requirement on the block', () => {
    expect(manifest.providers).to.deep.equal([{ name: 'http', display_name: 'HTTP', auth: [{ type: 'host_scoped' }] }]);
    expect(manifest.blocks[0]!.credentials).to.equal(undefined);
  });


  describe('http.request', () => {
    it('sends a GET with its headers and yields status, headers and body in that order', async () => {
      const mock = fetchMock({ status: 200, headers: { 'Content-Type': 'application/json' }, data: { ok: true } });
      const result = await run(httpRequest, inputsFixture({ headers: { accept: 'application/json' } }), contextFixture(mock.fetch, { credentials: null }));
      expect(mock.calls).to.deep.equal([{ url: 'https://api.example.com/items', method: 'GET', request: { method: 'GET', headers: { accept: 'application/json' } } }]);
      expect(result).to.deep.equal({ outputs: [['status', 200], ['headers', { 'content-type': 'application/json' }], ['body', { ok: true }]], error: null });
    });

    it('passes the query to fetch', async () => {
      const mock = fetchMock({ data: '' });
      await run(httpRequest, inputsFixture({ query: { page: 2, q: 'a b', all: true } }), contextFixture(mock.fetch));
      expect(mock.calls[0]!.request.query).to.deep.equal({ page: 2, q: 'a b', all: true });
    });

    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      it(`sends ${method} with body as JSON`, async () => {
        const mock = fetchMock({ status: 201, data: { id: 1 } });
        await run(httpRequest, inputsFixture({ method, body: { name: 'widget', tags: [1, 2] } }), contextFixture(mock.fetch));
        expect(mock.calls[0]!.method).to.equal(method);
        expect(mock.calls[0]!.request.json).to.deep.equal({ name: 'widget', tags: [1, 2] });
        expect(mock.calls[0]!.request.body).to.equal(undefined);
      });
    }

    it('sends a JSON null or false body too (any JSON value)', async () => {
      const mock = fetchMock({ data: '' }, { data: '' });
      await run(httpRequest, inputsFixture({ method: 'POST', body: null }), contextFixture(mock.fetch));
      await run(httpRequest, inputsFixture({ method: 'POST', body: false }), contextFixture(mock.fetch));
      expect(mock.calls.map((c) => c.request.json)).to.deep.equal([null, false]);
      expect(mock.calls.every((c) => 'json' in c.request)).to.equal(true);
    });

    it('sends body_text as is, with the caller’s content-type', async () => {
      const mock = fetchMock({ data: 'ok' });
      await run(httpRequest, inputsFixture({ method: 'POST', body_text: 'a=1&b=2', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), contextFixture(mock.fetch));
      expect(mock.calls[0]!.request).to.deep.equal({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' });
    });

    it('passes timeout_ms as the request time limit', async () => {
      const mock = fetchMock({ data: '' });
      await run(httpRequest, inputsFixture({ timeout_ms: 1500 }), contextFixture(mock.fetch));
      expect(mock.calls[0]!.request.timeoutMs).to.equal(1500);
    });

    it('yields 4xx and 5xx answers as results, text bodies as text', async () => {
      const mock = fetchMock({ status: 404, headers: { 'content-type': 'text/html' }, data: '<h1>nope</h1>' }, { status: 503, data: { error: 'down' } });
      expect(await run(httpRequest, inputsFixture(), contextFixture(mock.fetch))).to.deep.equal({ outputs: [['status', 404], ['headers', { 'content-type': 'text/html' }], ['body', '<h1>nope</h1>']], error: null });
      expect((await run(httpRequest, inputsFixture(), contextFixture(mock.fetch))).outputs[0]).to.deep.equal(['status', 503]);
    });

    it('yields an empty body for HEAD', async () => {
      const mock = fetchMock({ status: 200, headers: { 'content-length': '42' }, data: '' });
      const result = await run(httpRequest, inputsFixture({ method: 'HEAD' }), contextFixture(mock.fetch));
      expect(mock.calls[0]!.method).to.equal('HEAD');
      expect(result.outputs).to.deep.equal([['status', 200], ['headers', { 'content-length': '42' }], ['body', '']]);
    });

    it('refuses body together with body_text, without a request', async () => {
      const mock = fetchMock();
      const result = await run(httpRequest, inputsFixture({ method: 'POST', body: {}, body_text: 'x' }), contextFixture(mock.fetch));
      expect(result).to.deep.equal({ outputs: [], error: 'give either body (sent as JSON) or body_text, not both' });
      expect(mock.calls).to.have.length(0);
    });

    it('refuses a body on GET and HEAD, without a request', async () => {
      const mock = fetchMock();
      expect((await run(httpRequest, inputsFixture({ body: { a: 1 } }), contextFixture(mock.fetch))).error).to.equal('a GET request cannot have a body');
      expect((await run(httpRequest, inputsFixture({ method: 'HEAD', body_text: 'x' }), contextFixture(mock.fetch))).error).to.equal('a HEAD request cannot have a body');
      expect(mock.calls).to.have.length(0);
    });

    it('fails with "request refused: blocked_address" when the address is refused', async () => {
      const mock = fetchMock(new OutboundRequestError('blocked_address', '127.0.0.1 is a loopback address'));
      const result = await run(httpRequest, inputsFixture({ url: 'http://127.0.0.1:8080/admin' }), contextFixture(mock.fetch));
      expect(result).to.deep.equal({ outputs: [], error: 'request refused: blocked_address: 127.0.0.1 is a loopback address' });
    });

    for (const code of ['timeout', 'network', 'too_many_redirects', 'response_too_large', 'invalid_url'] as const) {
      it(`fails naming the code when fetch throws ${code}`, async () => {
        const mock = fetchMock(new OutboundRequestError(code, `it went ${code}`));
        expect((await run(httpRequest, inputsFixture(), contextFixture(mock.fetch))).error).to.equal(`request failed: ${code}: it went ${code}`);
      });
    }

    it('fails with the message of any other error fetch throws', async () => {
      const mock = fetchMock(new TypeError('invalid header value'));
      expect((await run(httpRequest, inputsFixture(), contextFixture(mock.fetch))).error).to.equal('request failed: invalid header value');
    });

    it('lets the abort reason through when the run was cancelled', async () => {
      const controller = new AbortController();
      controller.abort(new Error('cancelled'));
      const mock = fetchMock(new OutboundRequestError('aborted', 'the request was aborted'));
      let error: unknown;
      await run(httpRequest, inputsFixture(), contextFixture(mock.fetch, { signal: controller.signal })).catch((e: unknown) => (error = e));
      expect(error).to.be.instanceOf(OutboundRequestError);
    });
  });
});
